"""Normalisation: language detection, folding, stemming, filler and numbers."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sellerdesk.faq.matching.normalize import compact_code, detect_language, fold, normalize


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("сколько ждать посылку", "ru"),
        ("how long is shipping", "en"),
        ("多久能到货", "zh"),
        ("PB-20K 多少钱", "zh"),
        ("доставка to Moscow", "ru"),
        ("12345678-0001", None),
        ("😀👍", None),
    ],
)
def test_language_from_script(text: str, lang: str | None) -> None:
    assert detect_language(text) == lang


def test_fold_handles_yo_case_and_fullwidth() -> None:
    assert fold("ЁМКОСТЬ ＰＢ－２０Ｋ") == "емкость pb-20k"


def test_russian_endings_share_a_stem() -> None:
    forms = {normalize(w).terms for w in ("доставка", "доставки", "доставку", "доставкой")}
    assert len(forms) == 1


def test_greetings_and_filler_do_not_count() -> None:
    norm = normalize("Здравствуйте, подскажите пожалуйста, сколько идет доставка?")
    assert norm.terms == normalize("сколько идет доставка").terms
    assert normalize("Здравствуйте! Спасибо!").empty
    assert normalize("您好，请问多久到货").terms == normalize("多久到货").terms


def test_order_numbers_are_taken_out_of_the_text() -> None:
    norm = normalize("где мой заказ 12345678-0001-1, 87654321-0002")
    assert norm.order_numbers == ("12345678-0001-1", "87654321-0002")
    assert norm.terms == normalize("где мой заказ").terms
    assert normalize("трек 123456789012345").terms == normalize("трек").terms


def test_model_codes_are_found() -> None:
    assert normalize("какой ёмкости павербанк PB-20K?").codes == ("pb20k",)
    assert normalize("lw-snk-220 есть 42").codes == ("lwsnk220",)
    assert normalize("размер 42").codes == ()
    assert compact_code("PB 20k") == "pb20k"


def test_chinese_is_split_into_characters() -> None:
    assert normalize("多久能到货").terms == ("多", "久", "能", "到", "货")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400))
def test_normalize_never_fails_and_terms_are_clean(text: str) -> None:
    norm = normalize(text)
    assert all(term and not any(ch.isspace() for ch in term) for term in norm.terms)
    assert all(code.isalnum() for code in norm.codes)
    assert norm.lang in (None, "ru", "en", "zh")


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(categories=["L", "Nd", "Zs", "P"]), max_size=200))
def test_normalising_the_clean_text_changes_nothing(text: str) -> None:
    first = normalize(text)
    assert normalize(first.clean).terms == first.terms


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("JH-BD-EUT是什么面料", "jhbdeut"),
        ("TG-RS-TR2一只鞋多重", "tgrstr2"),
        ("PB-20K весит сколько", "pb20k"),
    ],
)
def test_codes_are_found_next_to_chinese_and_without_digits(text: str, code: str) -> None:
    assert code in normalize(text).codes
