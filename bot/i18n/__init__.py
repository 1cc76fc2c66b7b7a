"""The desk's texts in every language.

- :mod:`~bot.i18n.catalog`: reading and checking the gettext catalogs in
  ``bot/i18n/locales`` (``messages.pot`` and one ``.po`` per language);
- :mod:`~bot.i18n.texts`: :func:`~bot.i18n.texts.text`, a text by key and language.

May import: the standard library and Babel only.
"""
