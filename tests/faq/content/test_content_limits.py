"""Content files that would cost the bot minutes and gigabytes are refused, with the file
and line, before anything is built from them."""

from __future__ import annotations

import csv
import io
import time
import zipfile
from pathlib import Path

import pytest

from sellerdesk.faq.content import catalog_sheets, checker, faq_file, products_file
from sellerdesk.faq.content.catalog_import import import_catalog
from sellerdesk.faq.content.catalog_sheets import CatalogImportError
from sellerdesk.faq.content.catalog_table import Table, write_products_csv
from sellerdesk.faq.content.faq_file import load_faq_file
from sellerdesk.faq.content.products_file import load_products_file

#: Nine levels of nine aliases each: 387 million questions once expanded.
ALIASES = 'a0: &a0 ["Сколько идет доставка?"]\n' + "".join(
    f"a{n}: &a{n} [{', '.join(['*a' + str(n - 1)] * 9)}]\n" for n in range(1, 10)
)


def test_yaml_aliases_are_refused_with_their_line(tmp_path: Path) -> None:
    path = tmp_path / "faq.yaml"
    path.write_text(
        ALIASES + "entries:\n  - id: bomb\n    questions: {ru: *a9}\n    answer: x\n",
        encoding="utf-8",
    )
    started = time.monotonic()
    entries, problems = load_faq_file(path)
    assert time.monotonic() - started < 5
    assert entries == []
    assert [(p.line, "aliases" in p.message) for p in problems] == [(2, True)]


def test_a_file_over_the_size_limit_is_not_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(checker, "MAX_YAML_BYTES", 1000)
    path = tmp_path / "faq.yaml"
    path.write_text("entries:\n" + "# note\n" * 500, encoding="utf-8")
    _, problems = load_faq_file(path)
    assert len(problems) == 1 and "more than the 1,000" in problems[0].message


def test_too_many_questions_in_one_entry(tmp_path: Path) -> None:
    many = ", ".join(f'"вопрос {n}"' for n in range(faq_file.MAX_QUESTIONS + 1))
    path = tmp_path / "faq.yaml"
    path.write_text(
        f"entries:\n  - id: a\n    questions: {{ru: [{many}]}}\n    answer: x\n",
        encoding="utf-8",
    )
    entries, problems = load_faq_file(path)
    assert entries == []
    assert any(f"at most {faq_file.MAX_QUESTIONS} per language" in p.message for p in problems)


def test_too_many_products(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(products_file, "MAX_PRODUCTS", 5)
    path = tmp_path / "products.csv"
    rows = "".join(f"P-{n},Товар {n},Описание\n" for n in range(8))
    path.write_text("offer_id,name,description\n" + rows, encoding="utf-8")
    products, problems = load_products_file(path)
    assert len(products) == 5
    assert [p.line for p in problems] == [7] and "more than 5" in problems[0].message


def test_imported_cells_cannot_run_as_spreadsheet_formulas(tmp_path: Path) -> None:
    path = tmp_path / "products.csv"
    table = Table(
        ["offer_id", "name", "description", "Цвет"],
        [
            ['=HYPERLINK("http://evil")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(1)"],
            ["P-2", "Шапка", "- мягкая\n- тёплая", "синий"],
        ],
    )
    write_products_csv(path, table)
    written = path.read_text("utf-8")
    for line in csv.reader(io.StringIO(written)):
        assert not any(cell.startswith(products_file.FORMULA_STARTS) for cell in line), line
    products, problems = load_products_file(path)
    assert problems == []
    assert products[0].offer_id == '=HYPERLINK("http://evil")'  # buyers see the value itself
    assert products[0].attributes == {"Цвет": "@SUM(1)"}
    assert products[1].description == "- мягкая\n- тёплая"


def test_an_xlsx_that_unpacks_to_too_much_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(catalog_sheets, "MAX_UNPACKED_BYTES", 10_000)
    bomb = tmp_path / "catalog.xlsx"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", "0" * 50_000)  # 50 KB from ~100 bytes
    assert bomb.stat().st_size < 1_000
    with pytest.raises(CatalogImportError, match="unpacks to 50,000 bytes"):
        import_catalog(bomb)
