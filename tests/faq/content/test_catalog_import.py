"""Importing Ozon catalog exports (XLSX, CSV) into products.csv."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from openpyxl import Workbook

from sellerdesk.cli import main
from sellerdesk.faq.content.catalog_import import (
    clean_description,
    import_catalog,
    parse_column_map,
)
from sellerdesk.faq.content.catalog_sheets import CatalogImportError
from sellerdesk.faq.content.catalog_table import Table, write_products_csv
from sellerdesk.faq.content.loader import load_seller
from sellerdesk.faq.content.products_file import load_products_file
from sellerdesk.faq.matching.matcher import make_matcher
from tests.faq.conftest import PRODUCTS_CSV, WriteSeller

HEADER = [
    "Артикул",
    "Ozon Product ID",
    "Наименование товара",
    "Описание",
    "Бренд",
    "Цвет товара",
    "Цена, ₽",
    "Штрихкод",
    "Цена Premium, ₽",
]
#: The signature of a Compound File: an .xls, or an .xlsx saved with a password.
CFB = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
SNEAKERS_HTML = (
    "<p>Лёгкие  кроссовки<br>с сетчатым верхом</p><ul><li>подошва EVA</li>"
    "<li>размеры 39&ndash;45</li></ul>"
)


def ozon_xlsx(path: Path) -> Path:
    """An export shaped like the seller cabinet's: an instructions sheet first, then the
    products under two title rows and a blank one."""
    book = Workbook()
    notes = book.active
    assert notes is not None
    notes.title = "Инструкция"
    notes.append(["Как заполнить шаблон"])
    notes.append(["Артикул — ваш код товара"])
    sheet = book.create_sheet("Товары")
    sheet.append(["Отчёт по товарам магазина Lotus Wear"])
    sheet.append(["Сформирован 2026-11-20"])
    sheet.append([])
    sheet.append(HEADER)  # row 4
    sheet.append(
        [12345.0, 111, "Кроссовки беговые мужские", SNEAKERS_HTML, "Lotus", "белый", 2990.0,
         4607001234567.0, None]
    )  # fmt: skip
    sheet.append(
        ["PB-20K", 112, "Павербанк 20000 мАч", "Внешний   аккумулятор &amp; быстрая зарядка",
         "Lotus", "черный", 1499.5, None, None]
    )  # fmt: skip
    sheet.append([None, 113, "Товар без артикула", "", "Lotus", "", 100, None, None])  # row 7
    sheet.append([12345, 114, "Дубликат кроссовок", "", "", "", 1, None, None])  # row 8
    sheet.append(HEADER)  # row 9: a page break of a glued export
    sheet.append(["X-1", 115, None, "без названия", "", "", 5, None, None])  # row 10
    sheet.append([])
    sheet.append(
        ["HAT-1", 116, "Панама хлопковая", "<b>Панама</b> из хлопка", "", "бежевый", 590,
         None, None]
    )  # fmt: skip  # row 12
    book.save(path)
    return path


def cp1251_csv(path: Path) -> Path:
    text = (
        "Выгрузка товаров;;;\r\n"
        "Артикул;Название товара;Аннотация;Материал\r\n"
        "777.0;Шарф шерстяной;Тёплый <br/>шарф;шерсть\r\n"
        ";Без артикула;;\r\n"
        "778;Варежки вязаные;;\r\n"
    )
    path.write_bytes(text.encode("cp1251"))
    return path


def read_csv(path: Path) -> list[dict[str, str]]:
    text = path.read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text, newline="")))


def test_xlsx_header_found_below_titles_on_second_sheet(tmp_path: Path) -> None:
    catalog = import_catalog(ozon_xlsx(tmp_path / "export.xlsx"))
    assert catalog.source == "export.xlsx, sheet 'Товары'"
    assert catalog.header_row == 4
    assert catalog.columns == [
        "offer_id",
        "name",
        "description",
        "Ozon Product ID",
        "Бренд",
        "Цвет товара",
        "Цена, ₽",
        "Штрихкод",
    ]
    assert catalog.empty_columns == ["Цена Premium, ₽"]
    rows = {row[0]: dict(zip(catalog.columns, row, strict=True)) for row in catalog.rows}
    assert list(rows) == ["12345", "PB-20K", "HAT-1"]
    sneakers = rows["12345"]
    assert sneakers["description"] == (
        "Лёгкие кроссовки\nс сетчатым верхом\n• подошва EVA\n• размеры 39–45"
    )
    assert sneakers["Штрихкод"] == "4607001234567"
    assert sneakers["Цена, ₽"] == "2990"
    assert rows["PB-20K"]["description"] == "Внешний аккумулятор & быстрая зарядка"
    assert rows["PB-20K"]["Цена, ₽"] == "1499.5"
    assert rows["HAT-1"]["description"] == "Панама из хлопка"
    assert [(s.row, s.reason) for s in catalog.skipped] == [
        (7, "no offer id"),
        (8, "duplicate offer id '12345' (first on row 5)"),
        (9, "a repeated header row"),
        (10, "no name (offer id 'X-1')"),
    ]
    assert catalog.rows_read == 7


def test_cli_import_writes_a_catalog_the_bot_answers_from(
    tmp_path: Path, write_seller: WriteSeller, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = write_seller()
    export = ozon_xlsx(tmp_path / "export.xlsx")
    args = ["products", "import", "test-shop", str(export), "--content", str(folder.parent)]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "read: export.xlsx, sheet 'Товары', header on row 4" in out
    assert (
        "columns: Артикул -> offer_id, Наименование товара -> name, Описание -> description" in out
    )
    assert "dropped, empty in every row: Цена Premium, ₽" in out
    assert "rows: 7 read, 3 imported, 4 skipped" in out
    assert "skipped: 1 no offer id, 1 duplicate offer id, 1 a repeated header row, 1 no name" in out
    assert "  row 8: duplicate offer id '12345' (first on row 5)" in out
    rows = read_csv(folder / "products.csv")
    assert [r["offer_id"] for r in rows] == ["12345", "PB-20K", "HAT-1"]
    assert rows[0]["Цвет товара"] == "белый"
    products, problems = load_products_file(folder / "products.csv")
    assert problems == []
    assert products[0].attributes["Бренд"] == "Lotus"
    assert main(["faq", "check", str(folder.parent)]) == 0
    seller = load_seller(folder)
    decision = make_matcher(seller, "fuzzy").decide("панама хлопковая какой цвет")
    assert decision.best is not None
    assert decision.best.target == "product:HAT-1"


def test_cp1251_semicolon_csv_with_a_title_row(tmp_path: Path) -> None:
    catalog = import_catalog(cp1251_csv(tmp_path / "export.csv"))
    assert catalog.header_row == 2
    assert catalog.columns == ["offer_id", "name", "description", "Материал"]
    assert catalog.rows == [
        ["777", "Шарф шерстяной", "Тёплый\nшарф", "шерсть"],
        ["778", "Варежки вязаные", "", ""],
    ]
    assert [(s.row, s.reason) for s in catalog.skipped] == [(4, "no offer id")]


def test_merge_updates_adds_and_keeps(
    tmp_path: Path, write_seller: WriteSeller, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = write_seller(products=PRODUCTS_CSV)
    export = ozon_xlsx(tmp_path / "export.xlsx")
    args = ["products", "import", "test-shop", str(export), "--content", str(folder.parent)]
    assert main(args) == 0
    assert "4 products: 2 added, 1 updated, 1 kept, 0 removed" in capsys.readouterr().out
    rows = {r["offer_id"]: r for r in read_csv(folder / "products.csv")}
    assert list(rows) == ["PB-20K", "LW-SNK-220", "12345", "HAT-1"]
    # Updated from the export; the column only the old file had keeps its value.
    assert rows["PB-20K"]["description"] == "Внешний аккумулятор & быстрая зарядка"
    assert rows["PB-20K"]["Емкость"] == "20000 мАч"
    assert rows["LW-SNK-220"]["name"] == "Кроссовки беговые мужские"
    assert rows["12345"]["Цвет"] == ""


def test_replace_writes_only_the_import(
    tmp_path: Path, write_seller: WriteSeller, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = write_seller(products=PRODUCTS_CSV)
    export = ozon_xlsx(tmp_path / "export.xlsx")
    args = ["products", "import", "test-shop", str(export), "--content", str(folder.parent)]
    assert main([*args, "--replace"]) == 0
    assert "3 products: 3 added, 0 updated, 0 kept, 2 removed" in capsys.readouterr().out
    assert [r["offer_id"] for r in read_csv(folder / "products.csv")] == [
        "12345",
        "PB-20K",
        "HAT-1",
    ]


def test_dry_run_writes_nothing(
    tmp_path: Path, write_seller: WriteSeller, capsys: pytest.CaptureFixture[str]
) -> None:
    export = ozon_xlsx(tmp_path / "export.xlsx")
    fresh = write_seller("fresh-shop")
    args = ["products", "import", "fresh-shop", str(export), "--content", str(fresh.parent)]
    assert main([*args, "--dry-run"]) == 0
    assert not (fresh / "products.csv").exists()
    folder = write_seller(products=PRODUCTS_CSV)
    before = (folder / "products.csv").read_bytes()
    args = ["products", "import", "test-shop", str(export), "--content", str(folder.parent)]
    assert main([*args, "--dry-run"]) == 0
    assert "dry run:" in capsys.readouterr().out
    assert (folder / "products.csv").read_bytes() == before


def test_column_map_overrides_and_drops(
    tmp_path: Path, write_seller: WriteSeller, capsys: pytest.CaptureFixture[str]
) -> None:
    export = tmp_path / "catalog.csv"
    export.write_text(
        "Код,Заголовок,Текст,Служебное\nA-1,Кружка,Кружка 300 мл,x\nA-2,Блюдце,,y\n",
        encoding="utf-8-sig",
    )
    folder = write_seller()
    args = ["products", "import", "test-shop", str(export), "--content", str(folder.parent)]
    assert main(args) == 2
    assert "no header row found" in capsys.readouterr().err
    maps = ["--map", "Код=offer_id", "--map", "заголовок = Name", "--map", "Текст=description"]
    assert main([*args, *maps, "--map", "Служебное=-"]) == 0
    assert read_csv(folder / "products.csv") == [
        {"offer_id": "A-1", "name": "Кружка", "description": "Кружка 300 мл"},
        {"offer_id": "A-2", "name": "Блюдце", "description": ""},
    ]
    assert main([*args, "--map", "Нет такой=Бренд", *maps]) == 2
    assert "--map names no column of the header: нет такой" in capsys.readouterr().err
    with pytest.raises(CatalogImportError, match="expected COLUMN=TARGET"):
        parse_column_map(["Код"])
    with pytest.raises(CatalogImportError, match="two columns are mapped to name"):
        parse_column_map(["Код=name", "Заголовок=NAME"])


def test_headers_are_matched_loosely(tmp_path: Path) -> None:
    export = tmp_path / "en.csv"
    export.write_text(
        "OFFER_ID*;Product  Name;Description:;Size\n1001.0;T-shirt;Cotton;XL\n", encoding="utf-8"
    )
    catalog = import_catalog(export)
    assert catalog.columns == ["offer_id", "name", "description", "Size"]
    assert catalog.rows == [["1001", "T-shirt", "Cotton", "XL"]]


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"", "empty.xlsx", "is empty"),
        (b"offer_id,name\n", "fake.xlsx", "is not an XLSX file"),
        (b"PK\x03\x04broken zip", "broken.xlsx", "is not a readable XLSX file"),
        (
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
            + b"\0" * 100
            + "EncryptionInfo".encode("utf-16-le"),
            "locked.xlsx",
            "is password protected",
        ),
        (CFB + b"\0" * 100, "old.xls", "Excel 97-2003"),
        (b"just some text\nno header here\n", "notes.csv", "no header row found"),
    ],
)
def test_unusable_files_exit_2_with_a_clear_message(
    tmp_path: Path,
    write_seller: WriteSeller,
    capsys: pytest.CaptureFixture[str],
    content: bytes,
    name: str,
    message: str,
) -> None:
    folder = write_seller(products=PRODUCTS_CSV)
    before = (folder / "products.csv").read_bytes()
    export = tmp_path / name
    export.write_bytes(content)
    args = ["products", "import", "test-shop", str(export), "--content", str(folder.parent)]
    assert main(args) == 2
    assert message in capsys.readouterr().err
    assert (folder / "products.csv").read_bytes() == before


def test_usage_errors_and_nothing_imported(
    tmp_path: Path, write_seller: WriteSeller, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = write_seller()
    root = str(folder.parent)
    export = tmp_path / "names-missing.csv"
    export.write_text("offer_id,name,description\nA-1,,x\nA-2,,y\n", encoding="utf-8")
    assert main(["products", "import", "nope", str(export), "--content", root]) == 2
    assert "No seller 'nope'" in capsys.readouterr().err
    assert main(["products", "import", "../test-shop", str(export), "--content", root]) == 2
    assert main(["products", "import", "test-shop", "--content", root]) == 2
    assert "Give the export FILE" in capsys.readouterr().err
    gone = str(tmp_path / "gone.csv")
    assert main(["products", "import", "test-shop", gone, "--content", root]) == 2
    assert "cannot read" in capsys.readouterr().err
    assert main(["products", "import", "test-shop", str(export), "--content", root]) == 1
    captured = capsys.readouterr()
    assert "  row 2: no name (offer id 'A-1')" in captured.out
    assert "nothing imported" in captured.err
    assert not (folder / "products.csv").exists()


def test_a_broken_current_catalog_is_not_merged_into(
    tmp_path: Path, write_seller: WriteSeller, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = write_seller(products="sku,title\n1,x\n")
    export = ozon_xlsx(tmp_path / "export.xlsx")
    args = ["products", "import", "test-shop", str(export), "--content", str(folder.parent)]
    assert main(args) == 1
    assert "fix it, or use --replace" in capsys.readouterr().err
    assert (folder / "products.csv").read_text(encoding="utf-8") == "sku,title\n1,x\n"
    assert main([*args, "--replace"]) == 0
    assert len(read_csv(folder / "products.csv")) == 3


def test_write_is_atomic_and_checked(tmp_path: Path) -> None:
    target = tmp_path / "products.csv"
    target.write_text(PRODUCTS_CSV, encoding="utf-8")
    bad = Table(["offer_id", "name", "description"], [["", "no id", ""]])
    with pytest.raises(CatalogImportError, match="would not load"):
        write_products_csv(target, bad)
    assert target.read_text(encoding="utf-8") == PRODUCTS_CSV
    assert sorted(p.name for p in tmp_path.iterdir()) == ["products.csv"]
    good = Table(["offer_id", "name", "description"], [["1", "Кружка", "300 мл"]])
    write_products_csv(target, good)
    assert target.read_text(encoding="utf-8") == "offer_id,name,description\n1,Кружка,300 мл\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["products.csv"]


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("<p>Один</p><p>Два</p>", "Один\nДва"),
        ("a<br/>b<BR>c", "a\nb\nc"),
        ("размер <5 см и >2 см", "размер <5 см и >2 см"),
        ("<!-- note -->Текст&nbsp;здесь", "Текст здесь"),
        ("  много   пробелов \n\n\n строка ", "много пробелов\nстрока"),
    ],
)
def test_clean_description(html: str, text: str) -> None:
    assert clean_description(html) == text


def test_template_hint_rows_under_the_header_are_skipped(tmp_path: Path) -> None:
    """Ozon's upload template: group titles, a header with asterisks, then rows of hints
    and an example before the seller's products. None of them becomes a product."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Шаблон"
    sheet.append(["Основная информация", None, None, "Характеристики"])
    sheet.append(["Артикул*", "Название товара*", "Описание", "Цвет товара"])  # row 2
    sheet.append(["Обязательное поле", "Обязательное поле", "Необязательное поле", ""])
    sheet.append(
        ["Уникальный код товара в вашей системе", "Как товар называется на витрине",
         "Текст до 6000 знаков", "Выберите из списка"]
    )  # fmt: skip
    sheet.append(["SH 42", "Кроссовки беговые", "Лёгкие", "белый"])  # row 5: a real id
    sheet.append(["Пример: ABC-1", "Шапка", "", ""])  # after a product: kept as data
    book.save(tmp_path / "template.xlsx")

    catalog = import_catalog(tmp_path / "template.xlsx")

    assert catalog.header_row == 2
    assert [row[0] for row in catalog.rows] == ["SH 42", "Пример: ABC-1"]
    assert [(s.row, s.reason.split(" (")[0]) for s in catalog.skipped] == [
        (3, "a hint row of the template"),
        (4, "a hint row of the template"),
    ]


def test_offer_ids_no_product_link_can_open_are_named(
    tmp_path: Path, write_seller: WriteSeller, capsys: pytest.CaptureFixture[str]
) -> None:
    """ "AS 005/XL" cannot go into t.me/<bot>?start=<seller>__<offer>: the import and
    faq check say so, and the products are imported all the same."""
    folder = write_seller()
    export = tmp_path / "export.csv"
    export.write_text(
        # No description column: products.csv gets an empty one and loads.
        "offer_id,name\nAS 005/XL,Куртка\nAS-006,Шапка\nкуртка-7,Куртка зимняя\n",
        encoding="utf-8",
    )
    args = ["products", "import", "test-shop", str(export), "--content", str(folder.parent)]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "warning: 2 of 3 offer ids cannot go into a product link" in out
    assert "'AS 005/XL', 'куртка-7'" in out and "'AS-006'" not in out
    assert [r["offer_id"] for r in read_csv(folder / "products.csv")] == [
        "AS 005/XL",
        "AS-006",
        "куртка-7",
    ]
    assert main(["faq", "check", str(folder.parent)]) == 0
    checked = capsys.readouterr().out
    assert "products.csv:2: 2 of 3 offer ids cannot go into a product link" in checked
