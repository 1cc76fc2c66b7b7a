"""Russian typed in Latin letters ("skolko idet dostavka", "kak vernut tovar").

Buyers on a phone without a Russian keyboard write Russian words in Latin letters. The
stemmer and the encoders read them as unknown English words. :func:`to_cyrillic` spells
such a text back in Cyrillic the way people type it (``sh`` -> ш, ``ya`` -> я, a final
``y`` after a vowel -> й); :func:`looks_russian` decides whether the Cyrillic reading is
the better one by counting words a Russian reader would know: the seller's own words
(FAQ, answers, product names) and the commonest words of buyers' questions.
"""

from __future__ import annotations

import re
from collections.abc import Collection

from sellerdesk.faq.matching.normalize import fold, stem

#: Latin letter groups and their Cyrillic letters, longest first (how people type them).
_GROUPS: tuple[tuple[str, str], ...] = (
    ("shch", "щ"),
    ("sch", "щ"),
    ("zh", "ж"),
    ("kh", "х"),
    ("ts", "ц"),
    ("tch", "ч"),
    ("ch", "ч"),
    ("sh", "ш"),
    ("yu", "ю"),
    ("ju", "ю"),
    ("iu", "ю"),
    ("ya", "я"),
    ("ja", "я"),
    ("ia", "я"),
    ("yo", "ё"),
    ("jo", "ё"),
    ("ye", "е"),
    ("je", "е"),
    ("''", "ъ"),
)
_SINGLE = dict(
    zip(
        "abvgdezijklmnoprstufhcwxq'",
        [
            "а",
            "б",
            "в",
            "г",
            "д",
            "е",
            "з",
            "и",
            "й",
            "к",
            "л",
            "м",
            "н",
            "о",
            "п",
            "р",
            "с",
            "т",
            "у",
            "ф",
            "х",
            "ц",
            "в",
            "кс",
            "к",
            "ь",
        ],
        strict=True,
    )
)
_VOWELS = set("aeiouy")
#: Words shorter than this do not count either way.
MIN_LETTERS = 3
_WORD = re.compile(r"[a-z']+")

#: Stems of words that open or carry most buyers' questions in Russian: whether a Latin
#: text reads as Russian should not depend on the seller's FAQ using them.
COMMON_RUSSIAN = frozenset(
    stem(w)
    for w in """
    как где когда сколько почему зачем можно нужно надо есть нет будет был была было
    мой моя мое мои ваш ваша вы мне меня я мы это что кто какой какая какие какого ли
    или если уже еще тоже только очень все всё весь заказ заказа товар товара доставка
    доставки вернуть возврат деньги оплата оплатить размер цена стоит пришел пришла
    пришло прийти придет получить получил посылка посылку трек номер помогите здравствуйте
    спасибо пожалуйста привет подскажите скажите хочу хотел хотела идет идёт ждать
    долго день дней неделю брак сломан сломался не работает работает подойдет подходит
    гарантия чек новый новая отправить отправили отправка магазин продавец
    """.split()
)


def _word(latin: str) -> str:
    out: list[str] = []
    i = 0
    n = len(latin)
    while i < n:
        for group, cyr in _GROUPS:
            if latin.startswith(group, i):
                out.append(cyr)
                i += len(group)
                break
        else:
            ch = latin[i]
            if ch == "y":
                # A final y after a vowel, or one before a consonant after a vowel, is й
                # ("moy", "kakoy", "zaychik"); elsewhere it is ы ("vy", "tovary").
                prev_vowel = i > 0 and latin[i - 1] in _VOWELS
                next_consonant = i + 1 < n and latin[i + 1] not in _VOWELS
                out.append("й" if prev_vowel and (i + 1 == n or next_consonant) else "ы")
            else:
                out.append(_SINGLE.get(ch, ch))
            i += 1
    return "".join(out)


def to_cyrillic(text: str) -> str:
    """The text with every run of Latin letters spelled in Cyrillic."""
    return _WORD.sub(lambda m: _word(m.group(0)), fold(text))


def known_words(words: list[str], vocabulary: Collection[str]) -> int:
    """How many of ``words`` (folded) have a stem the vocabulary or everyday Russian has."""
    return sum(1 for w in words if (s := stem(w)) in vocabulary or s in COMMON_RUSSIAN)


def looks_russian(text: str, vocabulary: Collection[str]) -> str | None:
    """The Cyrillic reading of a Latin-letter text when more of its words are known that
    way than as written, at least half of them and at least two (or the only word);
    else None. Words shorter than ``MIN_LETTERS`` do not count.

    Args:
        text: the buyer's message.
        vocabulary: stems the seller's texts use.
    """
    folded = fold(text)
    if re.search(r"[\u0400-\u04ff\u3400-\u9fff]", folded):
        return None
    # Words of one or two letters read as something in either language ("i", "my").
    latin = [w for w in _WORD.findall(folded) if len(w) >= MIN_LETTERS]
    if not latin:
        return None
    as_written = sum(1 for w in latin if stem(w) in vocabulary)
    as_russian = known_words([_word(w) for w in latin], vocabulary)
    enough = as_russian >= 2 or len(latin) == 1
    if enough and as_russian > as_written and 2 * as_russian >= len(latin):
        return to_cyrillic(text)
    return None
