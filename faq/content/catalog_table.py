"""products.csv as a table: read, merged with an import by offer id, written atomically
with the file's mode kept."""

from __future__ import annotations

import contextlib
import csv
import io
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sellerdesk.faq.content.catalog_import import OFFER_ID, Catalog
from sellerdesk.faq.content.catalog_sheets import CatalogImportError
from sellerdesk.faq.content.products_file import (
    decode_table,
    load_products_file,
    safe_cell,
    sniff_delimiter,
)


@dataclass
class Table:
    """products.csv as columns and rows of text."""

    columns: list[str]
    rows: list[list[str]]


@dataclass(frozen=True)
class Merged:
    """The catalog to write and how it differs from the file it replaces."""

    table: Table
    added: int
    updated: int
    kept: int
    removed: int


def read_products_table(path: Path) -> Table | None:
    """The current products.csv (any encoding and separator the loader accepts), or None.

    Raises:
        CatalogImportError: the file exists but is not a usable catalog.
    """
    if not path.is_file():
        return None
    _products, problems = load_products_file(path)
    if problems:
        listed = "; ".join(str(p) for p in problems[:5])
        raise CatalogImportError(
            f"the current {path.name} has problems ({listed}); fix it, or use --replace"
        )
    text, _encoding = decode_table(path.read_bytes())
    delimiter = sniff_delimiter(text.split("\n", 1)[0])
    records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    header = [h.strip() for h in records[0]]
    rows = [
        (row + [""] * len(header))[: len(header)]
        for row in records[1:]
        if any(cell.strip() for cell in row)
    ]
    return Table(header, rows)


def merge_catalog(current: Table | None, catalog: Catalog, *, replace: bool = False) -> Merged:
    """Imported rows update current rows with the same offer id and add the others.

    Columns only the current file has keep their values; ``replace`` drops the
    current file's rows altogether.
    """
    if current is None or replace:
        removed = len(current.rows) if current is not None else 0
        table = Table(list(catalog.columns), catalog.rows)
        return Merged(table, added=len(catalog.rows), updated=0, kept=0, removed=removed)
    columns = list(current.columns)
    columns += [c for c in catalog.columns if c not in columns]
    position = {c: i for i, c in enumerate(columns)}
    offer_at = position[OFFER_ID]
    rows = [row + [""] * (len(columns) - len(row)) for row in current.rows]
    by_offer = {row[offer_at].strip(): index for index, row in enumerate(rows)}
    added = updated = 0
    for imported in catalog.rows:
        values = dict(zip(catalog.columns, imported, strict=True))
        index = by_offer.get(values[OFFER_ID])
        if index is None:
            row = [""] * len(columns)
            by_offer[values[OFFER_ID]] = len(rows)
            rows.append(row)
            added += 1
        else:
            row = rows[index]
            updated += 1
        for column, value in values.items():
            row[position[column]] = value
    kept = len(current.rows) - updated
    return Merged(Table(columns, rows), added=added, updated=updated, kept=kept, removed=0)


def write_products_csv(path: Path, table: Table) -> None:
    """Write products.csv atomically (temp file, check, rename): a bot reloading the
    folder never reads half a file, and a file the loader would refuse is never written.

    Raises:
        CatalogImportError: the result would not load (the old file stays as it was).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    temp = Path(temp_name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow([safe_cell(c) for c in table.columns])
            writer.writerows([safe_cell(cell) for cell in row] for row in table.rows)
            handle.flush()
            os.fsync(handle.fileno())
        _products, problems = load_products_file(temp)
        if problems:
            listed = "; ".join(p.message for p in problems[:5])
            raise CatalogImportError(f"the result would not load ({listed}); nothing written")
        os.chmod(temp, _file_mode(path))
        os.replace(temp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()


def _file_mode(path: Path) -> int:
    """The current file's permissions, else what a new file gets under the umask."""
    try:
        return path.stat().st_mode & 0o777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask
