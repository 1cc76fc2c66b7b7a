"""Text normalisation per language, detected from the text itself.

Buyers write "Здравствуйте, подскажите пожалуйста, скока идёт доставка заказа 12345678-0001??",
"how long is shipping", "多久能到货". Before matching, every text goes through the same steps:

1. NFKC (full-width letters and digits become plain ones), case folding, ё -> е.
2. Order numbers and long digit runs are taken out: they belong to the case, and a
   random number would otherwise drive a fuzzy match towards whatever entry has digits.
3. Model codes (letters and digits mixed, such as ``PB-20K``) are kept apart for exact hits.
4. Words are split: Latin and Cyrillic words by letters, Chinese into single characters
   (the matcher adds character bigrams, which stand in for word segmentation without a
   dictionary to load or keep up to date).
5. Greetings and politeness filler are dropped: they appear in half of all messages and
   must not decide which entry matches.
6. Russian and English words are stemmed (Snowball), so "доставка", "доставки" and
   "доставку" are one term.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import Stemmer

_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_LATIN = re.compile(r"[a-z]")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")

#: Ozon posting numbers (12345678-0001, 12345678-0001-1) and any other run of 5+ digits.
ORDER_NUMBER = re.compile(r"(?<![\w-])\d{6,12}-\d{1,6}(?:-\d{1,4})?(?![\w-])")
#: Latin letters and digits joined by hyphens (an offer id such as ``jh-bd-eut``).
_HYPHENATED = re.compile(r"(?<![\w-])[a-z0-9]+(?:-[a-z0-9]+)+(?![\w-])")
_LONG_DIGITS = re.compile(r"\d{5,}")
_DIGIT = re.compile(r"\d")
#: A model code: letters and digits together, optionally split by hyphens (pb-20k, lw-snk-220,
#: x5, 4k). At least one digit and one letter; a plain number or word is no code.
_CODE = re.compile(r"(?<![\w])(?=[\w-]*\d)(?=[\w-]*[^\W\d_])[^\W_](?:[\w]|-(?=\w))+(?![\w])")
_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
#: Where Chinese characters meet Latin letters or digits (no space between them).
_SCRIPT_EDGE = re.compile(rf"(?<=[{_HAN}])(?=[a-z0-9])|(?<=[a-z0-9])(?=[{_HAN}])")
#: Words: a run of Chinese characters, a run of other letters, or a run of digits
#: ("pb多少钱" is "pb" and "多少钱").
_WORD = re.compile(rf"[{_HAN}]+|[^\W\d_{_HAN}]+|\d+")

#: Greetings and politeness filler per language. Compared after folding, before stemming.
#: Chosen by reading buyer messages: these words carry no topic.
FILLER: frozenset[str] = frozenset(
    """
    здравствуйте здравствуй здрасте здрасьте привет приветствую добрый доброе доброго день
    утро вечер ночи пожалуйста пожалуста пожалуйсто плз пжл пж спасибо спс благодарю
    подскажите подскажи скажите скажи уточните уточните-ка извините простите хотел хотела
    хотелось бы бы вопрос вопросик такой такая уважаемый уважаемые продавец продавцы
    магазин ну а вот вообще кстати
    hello hi hey hiya greetings good morning afternoon evening please pls plz thanks thank
    thx kindly dear sir madam seller
    """.split()
)
#: Chinese greetings and filler, removed as substrings (Chinese has no spaces).
CJK_FILLER: tuple[str, ...] = (
    "您好",
    "你好",
    "请问一下",
    "请问",
    "麻烦问一下",
    "麻烦",
    "谢谢",
    "亲",
    "老板",
    "在吗",
    "一下",
)


def fold(text: str) -> str:
    """NFKC, case folding and ё -> е: the form every comparison starts from."""
    text = unicodedata.normalize("NFKC", text)
    return text.casefold().replace("ё", "е")


#: Characters looked at to tell the language of a text.
LANG_SAMPLE = 300


def detect_language(text: str) -> str | None:
    """Guess ``ru``, ``en`` or ``zh`` from the script of the letters; None without letters.

    Chinese wins with a quarter of the letters: one Chinese character carries as much
    as a whole Latin word, and Chinese buyers often mix in model codes and English words.
    """
    # The first few hundred characters tell the script; a whole product description
    # would only cost time.
    text = text[:LANG_SAMPLE]
    cjk = len(_CJK.findall(text))
    folded = text.casefold()
    cyr = len(_CYRILLIC.findall(folded))
    lat = len(_LATIN.findall(folded))
    total = cjk + cyr + lat
    if total == 0:
        return None
    if cjk * 4 >= total or cjk >= 4:
        return "zh"
    if cyr >= lat:
        return "ru"
    return "en"


_STEMMERS = {"ru": Stemmer.Stemmer("russian"), "en": Stemmer.Stemmer("english")}
#: Stems seen so far. Catalog texts repeat the same few thousand words; a plain dict
#: lookup is several times cheaper than calling the stemmer (or an lru_cache wrapper).
_STEMS: dict[str, str] = {}
_STEM_CACHE_LIMIT = 500_000


def stem(word: str) -> str:
    """Snowball stem of one folded word (Russian for Cyrillic, English for Latin)."""
    cached = _STEMS.get(word)
    if cached is not None:
        return cached
    if _CYRILLIC.search(word):
        result = str(_STEMMERS["ru"].stemWord(word))
    elif word.isascii() and word.isalpha():
        result = str(_STEMMERS["en"].stemWord(word))
    else:
        result = word
    if len(_STEMS) < _STEM_CACHE_LIMIT:
        _STEMS[word] = result
    return result


@dataclass(frozen=True)
class Normalized:
    """A text ready for matching."""

    #: ``ru``, ``en``, ``zh`` or None (no letters).
    lang: str | None
    #: Stemmed words; Chinese as single characters, in text order.
    terms: tuple[str, ...]
    #: Model codes found, compacted (``pb20k``), for exact product hits.
    codes: tuple[str, ...]
    #: Order numbers found (as written), for the case, not for matching.
    order_numbers: tuple[str, ...]
    #: Folded text without filler and numbers, for character-level fuzzy scoring.
    clean: str

    @property
    def empty(self) -> bool:
        return not self.terms and not self.codes


def compact_code(code: str) -> str:
    """``PB-20K`` and ``pb 20k`` both become ``pb20k``."""
    return re.sub(r"[\W_]+", "", fold(code))


def _strip_cjk_filler(text: str) -> str:
    for filler in CJK_FILLER:
        text = text.replace(filler, " ")
    return text


def normalize(text: str, *, keep_filler: bool = False) -> Normalized:
    """Normalise one question or FAQ text for matching.

    Args:
        text: anything a buyer may send, of any length.
        keep_filler: keep greetings and politeness words (for texts that consist of
            nothing else, such as an FAQ entry about greetings).
    """
    folded = fold(text)
    lang = detect_language(folded)
    orders: tuple[str, ...] = ()
    codes: tuple[str, ...] = ()
    if _DIGIT.search(folded):
        orders = tuple(m.group(0) for m in ORDER_NUMBER.finditer(folded))
        folded = ORDER_NUMBER.sub(" ", folded)
        # "jh-bd-eut是什么面料": a code runs straight into Chinese text, which \w matches.
        spaced = _SCRIPT_EDGE.sub(" ", folded) if _CJK.search(folded) else folded
        found = (compact_code(m.group(0)) for m in _CODE.finditer(spaced))
        codes = tuple(code for code in found if len(code) >= 3 and not code.isdigit())
        folded = _LONG_DIGITS.sub(" ", folded)
    if "-" in folded:
        # Offer ids without digits ("JH-BD-EUT"): Latin words joined by hyphens. Only a
        # catalog that has such an id matches one (``faq.matching.products.Catalog.code_hit``).
        spaced = _SCRIPT_EDGE.sub(" ", folded) if _CJK.search(folded) else folded
        extra = (compact_code(m.group(0)) for m in _HYPHENATED.finditer(spaced))
        codes += tuple(c for c in extra if len(c) >= 4 and c not in codes)
    has_cjk = _CJK.search(folded) is not None
    if has_cjk and not keep_filler:
        folded = _strip_cjk_filler(folded)
    terms: list[str] = []
    clean_words: list[str] = []
    for word in _WORD.findall(folded):
        if has_cjk and _CJK.match(word):
            # A run of Chinese characters: one term per character.
            terms.extend(word)
            clean_words.append(word)
            continue
        if not keep_filler and word in FILLER:
            continue
        clean_words.append(word)
        terms.append(_STEMS.get(word) or stem(word))
    return Normalized(
        lang=lang,
        terms=tuple(t for t in terms if t),
        codes=codes,
        order_numbers=orders,
        clean=" ".join(clean_words),
    )


def catalog_terms(text: str) -> list[str]:
    """Stemmed words of a long catalog text, the fast way.

    Product descriptions are indexed by the hundred thousand: no language detection,
    order numbers or model codes (the offer id and the name carry those), no filler
    removal (a description has no greetings). Digit runs of 5+ still go.
    """
    folded = _LONG_DIGITS.sub(" ", fold(text))
    terms: list[str] = []
    stems = _STEMS
    for word in _WORD.findall(folded):
        if word[0] >= "\u3400" and _CJK.match(word):
            terms.extend(word)
        else:
            terms.append(stems.get(word) or stem(word))
    return terms
