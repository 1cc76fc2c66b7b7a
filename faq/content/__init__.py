"""Seller content: the files of a seller folder, read, checked and written.

- :mod:`~faq.content.loader`: reading a content directory into :mod:`~faq.content.model`,
  with the file and line of every problem (:mod:`~faq.content.errors`);
- :mod:`~faq.content.check`: what ``sellerdesk faq check`` reports beyond loading;
- :mod:`~faq.content.scaffold`: a new seller folder (``sellerdesk init``);
- :mod:`~faq.content.catalog_import` and :mod:`~faq.content.ozon_catalog`: product
  catalogs from spreadsheets and from the Ozon Seller API.

The file contract is ``docs/content-format.md``. May import: the standard library,
yaml, httpx (the Ozon catalog client). Never ``telegram``, never ``sqlalchemy``.
"""
