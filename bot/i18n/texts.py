"""What the bot says, per language (ru, en, zh); English is the fallback.

The texts live in gettext catalogs, ``bot/i18n/locales/<lang>/LC_MESSAGES/sellerdesk.po``
(see :mod:`bot.i18n.catalog`): ``msgctxt`` is the key used here, ``msgid`` the English text,
``msgstr`` the translation. They are read once, at import. Texts shown with HTML parse
mode (the case card) escape ``<`` and ``&`` themselves; values filled into them are
escaped by the caller.
"""

from __future__ import annotations

from sellerdesk.bot.i18n.catalog import LANGUAGES, SOURCE_LANGUAGE, load_texts

__all__ = ["LANGUAGES", "LANGUAGE_NAMES", "has_text", "pick_language", "text"]

#: How each language calls itself, for the /language buttons.
LANGUAGE_NAMES = {"ru": "Русский", "en": "English", "zh": "中文"}

#: Every text by language, then key; English where a translation is missing.
_TEXTS = load_texts()


def pick_language(*candidates: str | None) -> str:
    """The first candidate the bot speaks (``ru-RU`` counts as ``ru``); else English."""
    for candidate in candidates:
        if candidate:
            code = candidate.split("-")[0].lower()
            if code in LANGUAGES:
                return code
    return SOURCE_LANGUAGE


def has_text(key: str) -> bool:
    """Is there a text ``key`` in the catalogs?"""
    return key in _TEXTS[SOURCE_LANGUAGE]


def text(key: str, lang: str, **values: str) -> str:
    """The text ``key`` in ``lang`` (English when missing), with values filled in.

    Raises:
        KeyError: no catalog has ``key`` (add it to the .po files).
    """
    texts = _TEXTS.get(lang) or _TEXTS[SOURCE_LANGUAGE]
    try:
        template = texts[key]
    except KeyError:
        raise KeyError(f"no text {key!r} in bot/i18n/locales (add it to the .po files)") from None
    return template.format(**values)
