"""FAQ content and matching. Knows nothing of Telegram or of the database.

- :mod:`faq.content`: seller folders read, checked, scaffolded and imported;
- :mod:`faq.matching`: a question matched to entries and products, and the decision;
- :mod:`faq.evaluate`: figures of a matcher on labelled cases (``sellerdesk faq eval``);
- :mod:`faq.gaps`: unanswered questions grouped by what they ask.

May import: the standard library, rapidfuzz, yaml, numpy and language tools. Never
``telegram``, ``sqlalchemy``, ``bot`` or ``storage``.
"""
