"""Matching a buyer's question to a seller's FAQ entries and products.

:mod:`~faq.matching.matcher` ranks and decides (answer, suggest, hand off); it reads
signals from :mod:`~faq.matching.lexical`, :mod:`~faq.matching.semantic` and
:mod:`~faq.matching.products`, each put on the seller's own scale by
:mod:`~faq.matching.calibration`, and decides with :mod:`~faq.matching.confidence`.
Text preparation: :mod:`~faq.matching.normalize`, :mod:`~faq.matching.translit`,
:mod:`~faq.matching.parts`. See ``docs/matching.md``.

May import: ``faq.content``, the standard library, rapidfuzz, numpy, PyStemmer and
the optional encoders. Never ``telegram``, never ``sqlalchemy``.
"""
