"""products.csv: the catalog, in UTF-8 or the Windows encodings spreadsheets save
(docs/content-format.md)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

from sellerdesk.faq.content.checker import MAX_CSV_BYTES, too_big
from sellerdesk.faq.content.errors import Problem
from sellerdesk.faq.content.model import (
    Product,
)

PRODUCT_COLUMNS = ("offer_id", "name", "description")


#: Products of one products.csv at most (the matcher is measured up to 100,000).
MAX_PRODUCTS = 100_000


#: A spreadsheet reads a cell starting with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: str) -> str:
    """``value`` as written to products.csv: a cell a spreadsheet would run as a formula
    gets a leading apostrophe (the spreadsheet's own mark for text)."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def plain_cell(value: str) -> str:
    """A cell as read from products.csv: the apostrophe :func:`safe_cell` added is
    dropped, so buyers see the value itself."""
    if value.startswith("'") and value[1:].startswith(FORMULA_STARTS):
        return value[1:]
    return value


def decode_table(data: bytes) -> tuple[str, str]:
    """Decode a spreadsheet export: UTF-8 (with or without BOM), else CP1251, else a guess.

    Russian Excel saves "CSV" in CP1251 by default; newer versions offer "CSV UTF-8",
    which starts with a BOM. Both are common in sellers' real files.

    Returns:
        The text and the name of the encoding used.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace"), "utf-8-sig"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("cp1251")
    except UnicodeDecodeError:
        text = None
    if text is not None and _looks_cyrillic(text):
        return text, "cp1251"
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is not None:
        return str(best), best.encoding
    return data.decode("cp1251", errors="replace"), "cp1251"


def _looks_cyrillic(text: str) -> bool:
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        return True
    plausible = sum(1 for ch in letters if ch.isascii() or "\u0400" <= ch <= "\u04ff")
    return plausible / len(letters) > 0.95


def sniff_delimiter(header: str) -> str:
    """Comma, semicolon (Russian Excel) or tab: whichever splits the header most."""
    counts = {d: header.count(d) for d in (",", ";", "\t")}
    return max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","


def load_products_file(path: Path) -> tuple[list[Product], list[Problem]]:
    """Read products.csv: required columns offer_id, name, description; the rest attributes."""
    problems: list[Problem] = []
    if (big := too_big(path, MAX_CSV_BYTES)) is not None:
        return [], [big]
    try:
        data = path.read_bytes()
    except OSError as exc:
        return [], [Problem(path, None, None, f"cannot read: {exc.strerror}")]
    text, _encoding = decode_table(data)
    first_line = text.split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(first_line))
    try:
        header = next(reader)
    except StopIteration:
        return [], [Problem(path, 1, None, "the file is empty; expected a header row")]
    except csv.Error as exc:
        return [], [Problem(path, 1, None, f"unreadable CSV: {exc}")]
    header = [plain_cell(h).strip() for h in header]
    missing = [col for col in PRODUCT_COLUMNS if col not in header]
    if missing:
        problems.append(
            Problem(
                path,
                1,
                ", ".join(missing),
                f"missing required column; the header must include {', '.join(PRODUCT_COLUMNS)}",
            )
        )
        return [], problems
    dupes = sorted({h for h in header if header.count(h) > 1})
    if dupes:
        problems.append(Problem(path, 1, ", ".join(dupes), "column appears twice in the header"))
    if any(not h for h in header):
        problems.append(Problem(path, 1, None, "a column has no name in the header"))
    index = {col: header.index(col) for col in PRODUCT_COLUMNS}
    attr_cols = [(i, h) for i, h in enumerate(header) if h and h not in PRODUCT_COLUMNS]
    products: list[Product] = []
    seen: dict[str, int] = {}
    rows: Iterator[list[str]] = reader
    while True:
        line = reader.line_num + 1
        try:
            row = next(rows)
        except StopIteration:
            break
        except csv.Error as exc:
            problems.append(Problem(path, line, None, f"unreadable CSV row: {exc}"))
            break
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(products) >= MAX_PRODUCTS:
            problems.append(
                Problem(path, line, None, f"more than {MAX_PRODUCTS:,} products; split the shop")
            )
            break
        if len(row) > len(header):
            problems.append(
                Problem(path, line, None, f"{len(row)} cells but the header has {len(header)}")
            )
            continue
        row = [plain_cell(cell) for cell in row + [""] * (len(header) - len(row))]
        offer_id = row[index["offer_id"]].strip()
        name = row[index["name"]].strip()
        if not offer_id:
            problems.append(Problem(path, line, "offer_id", "must not be empty"))
            continue
        if offer_id in seen:
            problems.append(
                Problem(
                    path,
                    line,
                    "offer_id",
                    f"duplicate {offer_id!r} (first on line {seen[offer_id]})",
                )
            )
            continue
        if not name:
            problems.append(Problem(path, line, "name", "must not be empty"))
            continue
        seen[offer_id] = line
        attributes = {h: row[i].strip() for i, h in attr_cols if row[i].strip()}
        products.append(
            Product(
                offer_id=offer_id,
                name=name,
                description=row[index["description"]].strip(),
                attributes=attributes,
                line=line,
            )
        )
    return products, problems
