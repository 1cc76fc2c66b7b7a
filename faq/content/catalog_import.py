"""Turning a marketplace catalog export into a seller's products.csv.

Sellers download their catalog from the Ozon seller cabinet as XLSX or CSV: title and
hint rows above the real header, several sheets, Russian or English column names,
HTML in descriptions, offer ids that Excel turned into floats. This module finds the
header, maps the columns onto the products.csv contract (``offer_id``, ``name``,
``description``, every other column an attribute), cleans the values and says which
rows it skipped and why. It reads and writes files only; no network, no Telegram.
"""

from __future__ import annotations

import contextlib
import html
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path

from sellerdesk.faq.content.catalog_sheets import (
    CatalogImportError,
    NumberedRow,
    Sheet,
    read_sheets,
)
from sellerdesk.faq.content.products_file import (
    PRODUCT_COLUMNS,
)

OFFER_ID, NAME, DESCRIPTION = PRODUCT_COLUMNS
#: ``--map "Column=-"`` drops a column.
DROP = "-"
#: Rows searched for the header on each sheet. Ozon's templates put one to four
#: title and hint rows above it; fifty leaves room for a seller's own notes.
HEADER_SCAN_ROWS = 50
#: Skipped rows listed one by one in the report; the rest are only counted.
REPORT_LIMIT = 20
#: Ozon's upload templates put hint rows ("Обязательное поле", how to fill a column, an
#: example) right under the header; rows this close to it are checked for being one.
HINT_ROWS = 3
#: A hint row's offer id cell is prose: several words, or one of these openings.
_HINT_WORDS = re.compile(
    r"^\W*(?:обязательн|необязательн|пример|укажите|введите|заполните|выберите|"
    r"required|optional|mandatory|example|enter|specify|fill|select)",
    re.IGNORECASE,
)
_HINT_MIN_WORDS = 3

#: Normalised header texts (see :func:`normalize_header`) of the columns Ozon exports
#: (product report, price report, product templates) and common hand-made catalogs.
HEADER_ALIASES: Mapping[str, frozenset[str]] = {
    OFFER_ID: frozenset(
        {
            "offer id",
            "offerid",
            "артикул",
            "артикул товара",
            "артикул продавца",
            "артикул поставщика",
            "vendor code",
            "article",
        }
    ),
    NAME: frozenset(
        {
            "name",
            "product name",
            "product title",
            "title",
            "наименование",
            "наименование товара",
            "название",
            "название товара",
            "товар",
        }
    ),
    DESCRIPTION: frozenset(
        {
            "description",
            "product description",
            "annotation",
            "описание",
            "описание товара",
            "аннотация",
        }
    ),
}

_NON_WORD = re.compile(r"[\W_]+")
_FLOAT_ID = re.compile(r"^-?\d+\.0+$")
_HTML_TAG = re.compile(r"<!--.*?-->|</?[a-zA-Z][^<>]*>", re.DOTALL)
_HTML_BREAK = re.compile(r"<br\s*/?>|</(?:p|div|li|ul|ol|h[1-6]|tr)\s*>", re.IGNORECASE)
_HTML_ITEM = re.compile(r"<li(?:\s[^<>]*)?>", re.IGNORECASE)


def normalize_header(text: str) -> str:
    """Case, ``ё``, spaces and punctuation folded: ``"Offer_ID*"`` -> ``"offer id"``."""
    return _NON_WORD.sub(" ", text.lower().replace("ё", "е")).strip()


def _collapse(text: str) -> str:
    return " ".join(text.split())


def cell_text(value: object) -> str:
    """A spreadsheet cell as text; whole floats lose ``.0`` (Excel stores ids as floats)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e18:
            return str(int(value))
        return repr(value)
    if isinstance(value, datetime):
        if value.time() == time(0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="minutes")
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


def clean_description(text: str) -> str:
    """Plain text from an Ozon description: tags removed, paragraphs and list items kept
    as lines, entities decoded, spaces collapsed."""
    text = _HTML_ITEM.sub("\n• ", text)
    text = _HTML_BREAK.sub("\n", text)
    text = html.unescape(_HTML_TAG.sub(" ", text))
    lines = (_collapse(line) for line in text.splitlines())
    return "\n".join(line for line in lines if line)


# ---------------------------------------------------------------------------- columns


def parse_column_map(items: Iterable[str]) -> dict[str, str]:
    """``--map`` options (``"Колонка=name"``) as normalised header -> target column.

    The target is ``offer_id``, ``name``, ``description``, ``-`` (drop the column) or a
    new attribute name.
    """
    mapping: dict[str, str] = {}
    for item in items:
        column, sep, target = item.rpartition("=")
        column, target = _collapse(column), _collapse(target)
        if not sep or not column or not target:
            raise CatalogImportError(
                f"--map {item!r}: expected COLUMN=TARGET, e.g. --map 'Артикул=offer_id'; "
                f"TARGET is {', '.join(PRODUCT_COLUMNS)}, '-' to drop, or an attribute name"
            )
        roles = {normalize_header(role): role for role in PRODUCT_COLUMNS}
        target = roles.get(normalize_header(target), target)
        if target in PRODUCT_COLUMNS and target in mapping.values():
            raise CatalogImportError(f"--map: two columns are mapped to {target}")
        mapping[normalize_header(column)] = target
    return mapping


@dataclass(frozen=True)
class Column:
    """Where one source column goes: a required column, an attribute, or nowhere."""

    index: int
    header: str
    target: str | None


def _attribute_name(header: str) -> str:
    # Ozon templates mark required fields with "*": not part of the attribute's name.
    return _collapse(header).rstrip("*").strip()


def plan_columns(header: Sequence[str], overrides: Mapping[str, str]) -> list[Column] | None:
    """Map a header row onto products.csv, or None when it has no offer id and name."""
    targets: dict[int, str | None] = {}
    keys = [normalize_header(h) for h in header]
    for index, key in enumerate(keys):
        if key and key in overrides:
            targets[index] = None if overrides[key] == DROP else overrides[key]
    for role in PRODUCT_COLUMNS:
        if role in targets.values():
            continue
        for index, key in enumerate(keys):
            if index not in targets and key in HEADER_ALIASES[role] | {normalize_header(role)}:
                targets[index] = role
                break
    if OFFER_ID not in targets.values() or NAME not in targets.values():
        return None
    used = set(PRODUCT_COLUMNS)
    columns: list[Column] = []
    for index, text in enumerate(header):
        target: str | None = targets[index] if index in targets else _attribute_name(text)
        target = target or None
        if target is not None and target not in PRODUCT_COLUMNS:
            target = _unique(target, used)
            used.add(target)
        columns.append(Column(index, _collapse(text), target))
    return columns


def _unique(name: str, used: set[str]) -> str:
    candidate, number = name, 2
    while candidate in used:
        candidate = f"{name} ({number})"
        number += 1
    return candidate


# ------------------------------------------------------------------------------ import


@dataclass(frozen=True)
class Skipped:
    """A source row left out of the catalog."""

    row: int
    reason: str


@dataclass
class Catalog:
    """An imported catalog: products.csv columns and rows, and what was left out."""

    source: str
    header_row: int
    columns: list[str]
    rows: list[list[str]]
    mapping: list[Column]
    skipped: list[Skipped] = field(default_factory=list)
    #: Columns left out because no imported row has a value in them.
    empty_columns: list[str] = field(default_factory=list)
    #: Columns with values but no header (their cells have nothing to be called).
    unnamed_columns: list[int] = field(default_factory=list)
    rows_read: int = 0


def _row_values(columns: list[Column], cells: Sequence[object], text_cells: bool) -> list[str]:
    values: list[str] = []
    for column in columns:
        raw = cell_text(cells[column.index]) if column.index < len(cells) else ""
        value = clean_description(raw) if column.target == DESCRIPTION else _collapse(raw)
        if column.target == OFFER_ID and text_cells and _FLOAT_ID.match(value):
            value = value.split(".", 1)[0]
        values.append(value)
    return values


def _is_repeated_header(columns: list[Column], values: list[str]) -> bool:
    """A copy of the header inside the data (exports glued from several pages)."""
    roles = {c.target: v for c, v in zip(columns, values, strict=True)}
    headers = {c.target: c.header for c in columns}
    return all(
        normalize_header(roles[role]) == normalize_header(headers[role])
        for role in (OFFER_ID, NAME)
    )


def _is_hint_row(offer_id: str) -> bool:
    """An offer id cell that reads as an instruction, not a code: a template's hint or
    example row under the header."""
    return bool(_HINT_WORDS.match(offer_id)) or len(offer_id.split()) >= _HINT_MIN_WORDS


def _output_order(columns: list[Column]) -> list[Column]:
    """The columns written: the required ones first, as products.csv is usually laid
    out, then the attributes in the order of the source."""

    def rank(column: Column) -> int:
        target = str(column.target)
        return PRODUCT_COLUMNS.index(target) if target in PRODUCT_COLUMNS else len(PRODUCT_COLUMNS)

    return sorted((c for c in columns if c.target is not None), key=rank)


def build_catalog(
    sheet: Sheet, header_row: int, columns: list[Column], rows: Iterable[NumberedRow]
) -> Catalog:
    """Clean and check the data rows under a recognised header.

    Skipped with a reason: a repeated header, a template's hint row (only among the
    first rows under the header, before any product), no offer id, no name, an offer
    id seen before (the first row wins). Blank rows are passed over silently.
    """
    kept = _output_order(columns)
    first_row: dict[str, int] = {}
    out_rows: list[list[str]] = []
    skipped: list[Skipped] = []
    filled = [False] * len(columns)
    read = 0
    for number, cells in rows:
        values = _row_values(columns, cells, sheet.text_cells)
        if not any(values):
            continue
        read += 1
        by_target = dict(zip((c.target for c in columns), values, strict=True))
        offer_id, name = by_target.get(OFFER_ID, ""), by_target.get(NAME, "")
        if _is_repeated_header(columns, values):
            skipped.append(Skipped(number, "a repeated header row"))
        elif not out_rows and read <= HINT_ROWS and _is_hint_row(offer_id):
            skipped.append(Skipped(number, f"a hint row of the template ({offer_id[:40]!r})"))
        elif not offer_id:
            skipped.append(Skipped(number, "no offer id"))
        elif not name:
            skipped.append(Skipped(number, f"no name (offer id {offer_id!r})"))
        elif offer_id in first_row:
            skipped.append(
                Skipped(
                    number,
                    f"duplicate offer id {offer_id!r} (first on row {first_row[offer_id]})",
                )
            )
        else:
            first_row[offer_id] = number
            filled = [f or bool(v) for f, v in zip(filled, values, strict=True)]
            out_rows.append([by_target.get(c.target, "") for c in kept])
    return _drop_empty(sheet, header_row, columns, out_rows, skipped, read, filled)


def _drop_empty(
    sheet: Sheet,
    header_row: int,
    columns: list[Column],
    rows: list[list[str]],
    skipped: list[Skipped],
    read: int,
    filled: list[bool],
) -> Catalog:
    kept = _output_order(columns)
    kept_filled = [filled[columns.index(c)] for c in kept]
    # Only attributes go: the three required columns stay even when empty.
    keep = [f or c.target in PRODUCT_COLUMNS for c, f in zip(kept, kept_filled, strict=True)]
    names = [str(c.target) for c, k in zip(kept, keep, strict=True) if k]
    out_rows = [[v for v, k in zip(row, keep, strict=True) if k] for row in rows]
    if DESCRIPTION not in names:
        # An export without descriptions: products.csv still has the column, empty.
        at = names.index(NAME) + 1
        names.insert(at, DESCRIPTION)
        for row in out_rows:
            row.insert(at, "")
    return Catalog(
        source=sheet.label,
        header_row=header_row,
        columns=names,
        rows=out_rows,
        mapping=[c for c, k in zip(kept, keep, strict=True) if k],
        skipped=skipped,
        empty_columns=[c.header for c, k in zip(kept, keep, strict=True) if not k],
        unnamed_columns=[
            c.index + 1 for c in columns if c.target is None and not c.header and filled[c.index]
        ],
        rows_read=read,
    )


def _find_header(
    rows: Iterator[NumberedRow], overrides: Mapping[str, str]
) -> tuple[int, list[Column]] | None:
    for number, cells in rows:
        if number > HEADER_SCAN_ROWS:
            return None
        header = [_collapse(cell_text(c)) for c in cells]
        columns = plan_columns(header, overrides)
        if columns is not None:
            return number, columns
    return None


def _check_overrides(columns: list[Column], overrides: Mapping[str, str]) -> None:
    present = {normalize_header(c.header) for c in columns}
    missing = [key for key in overrides if key not in present]
    if missing:
        known = ", ".join(repr(c.header) for c in columns if c.header)
        raise CatalogImportError(
            f"--map names no column of the header: {', '.join(missing)}; columns: {known}"
        )


def import_catalog(path: Path, overrides: Mapping[str, str] | None = None) -> Catalog:
    """Read a catalog export: the first sheet whose header names an offer id and a name.

    Raises:
        CatalogImportError: unreadable file, or no sheet has such a header.
    """
    overrides = overrides or {}
    # closing(): an XLSX workbook is released as soon as its sheet has been read.
    with contextlib.closing(read_sheets(path)) as sheets:
        for sheet in sheets:
            found = _find_header(sheet.rows, overrides)
            if found is None:
                continue
            header_row, columns = found
            _check_overrides(columns, overrides)
            return build_catalog(sheet, header_row, columns, sheet.rows)
    raise CatalogImportError(
        f"{path}: no header row found in the first {HEADER_SCAN_ROWS} rows of any sheet. "
        "It needs an offer id column (Артикул, Offer ID, offer_id) and a name column "
        "(Наименование товара, Название, Name); name other headers with "
        "--map 'Column=offer_id' --map 'Column=name'"
    )


def catalog_from_records(
    source: str, records: Iterable[Mapping[str, str]], header: Sequence[str]
) -> Catalog:
    """A catalog from records already keyed by column (the Ozon Seller API importer)."""
    columns = plan_columns(list(header), {})
    if columns is None:
        raise CatalogImportError(f"{source}: records need {OFFER_ID} and {NAME}")
    rows = ((n, [r.get(h, "") for h in header]) for n, r in enumerate(records, start=1))
    return build_catalog(Sheet(source, iter(())), 0, columns, rows)


# ------------------------------------------------------------------------------ report


def format_report(catalog: Catalog, limit: int = REPORT_LIMIT) -> list[str]:
    """What an admin reads after an import: columns found, counts, skipped rows."""
    where = f"{catalog.source}, header on row {catalog.header_row}"
    lines = [f"read: {where}" if catalog.header_row else f"read: {catalog.source}"]
    roles = [f"{c.header} -> {c.target}" for c in catalog.mapping if c.target in PRODUCT_COLUMNS]
    attributes = [c.target for c in catalog.mapping if c.target not in PRODUCT_COLUMNS]
    lines.append("columns: " + ", ".join(roles))
    if DESCRIPTION not in catalog.columns or not any(
        row[catalog.columns.index(DESCRIPTION)] for row in catalog.rows
    ):
        lines.append("note: no descriptions found; answers will use names and attributes only")
    # "; " between names: Ozon's headers carry commas ("Вес, г", "Цена, ₽").
    lines.append(f"attributes ({len(attributes)}): " + "; ".join(str(a) for a in attributes))
    if catalog.empty_columns:
        lines.append("dropped, empty in every row: " + "; ".join(catalog.empty_columns))
    if catalog.unnamed_columns:
        numbers = ", ".join(str(n) for n in catalog.unnamed_columns)
        lines.append(f"dropped, values without a header: column(s) {numbers}")
    lines.append(
        f"rows: {catalog.rows_read} read, {len(catalog.rows)} imported, "
        f"{len(catalog.skipped)} skipped"
    )
    if catalog.skipped:
        counts: dict[str, int] = {}
        for item in catalog.skipped:
            kind = item.reason.split(" (", 1)[0].split(" '", 1)[0]
            counts[kind] = counts.get(kind, 0) + 1
        lines.append("skipped: " + ", ".join(f"{n} {kind}" for kind, n in counts.items()))
        lines += [f"  row {s.row}: {s.reason}" for s in catalog.skipped[:limit]]
        if len(catalog.skipped) > limit:
            lines.append(f"  ... and {len(catalog.skipped) - limit} more")
    return lines
