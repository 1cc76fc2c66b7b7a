"""Reading a catalog export: the sheets of an XLSX file or the table of a CSV file,
rows numbered as the seller sees them."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from sellerdesk.faq.content.products_file import (
    decode_table,
    sniff_delimiter,
)

_ZIP_MAGIC = b"PK\x03\x04"
#: Compound File Binary: Excel 97-2003 ``.xls``, or an ``.xlsx`` saved with a password.
_CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTED_MARK = "EncryptionInfo".encode("utf-16-le")


#: A source row and its number in the file (the number Excel shows, or the CSV line).
NumberedRow = tuple[int, Sequence[object]]


class CatalogImportError(Exception):
    """The file or the options cannot be used at all; the message says what to do."""


@dataclass(frozen=True)
class Sheet:
    """One table of a source file: its label in reports and its rows, numbered from 1."""

    label: str
    rows: Iterator[NumberedRow]
    #: CSV cells are text: an offer id written as ``12345.0`` came from a float.
    text_cells: bool = False


def _sniff_kind(path: Path) -> str:
    try:
        with path.open("rb") as handle:
            head = handle.read(8)
    except OSError as exc:
        raise CatalogImportError(f"cannot read {path}: {exc.strerror}") from exc
    if not head:
        raise CatalogImportError(f"{path} is empty")
    if head.startswith(_ZIP_MAGIC):
        return "xlsx"
    if head.startswith(_CFB_MAGIC):
        if _ENCRYPTED_MARK in path.read_bytes():
            raise CatalogImportError(
                f"{path} is password protected: open it in Excel, remove the password "
                "(File > Info > Protect Workbook) and save it as .xlsx"
            )
        raise CatalogImportError(
            f"{path} is an Excel 97-2003 (.xls) file: open it in Excel and save it as "
            ".xlsx or CSV UTF-8"
        )
    if path.suffix.lower() in {".xlsx", ".xlsm"}:
        raise CatalogImportError(
            f"{path} is not an XLSX file (it may be damaged or only renamed); "
            "export the catalog again or save it as CSV"
        )
    return "csv"


#: Bytes an XLSX file may unpack to: Ozon's exports of 100,000 products unpack to tens
#: of megabytes; a few kilobytes of zip can otherwise stand for gigabytes.
MAX_UNPACKED_BYTES = 500_000_000


def _check_unpacked_size(path: Path) -> None:
    """Refuse an XLSX file whose parts would unpack to more than MAX_UNPACKED_BYTES."""
    try:
        with zipfile.ZipFile(path) as archive:
            total = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError) as exc:
        raise CatalogImportError(
            f"{path} is not a readable XLSX file ({exc}); export it again or save it as CSV"
        ) from exc
    if total > MAX_UNPACKED_BYTES:
        raise CatalogImportError(
            f"{path} unpacks to {total:,} bytes, more than the {MAX_UNPACKED_BYTES:,} a "
            "catalog may have; export fewer columns or split it"
        )


def _xlsx_sheets(path: Path) -> Generator[Sheet, None, None]:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    _check_unpacked_size(path)
    try:
        # Read-only mode streams rows from the zip: a 50,000-row export never sits in
        # memory as cell objects.
        book = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError) as exc:
        raise CatalogImportError(
            f"{path} is not a readable XLSX file ({exc}); export it again or save it as CSV"
        ) from exc
    try:
        for sheet in book.worksheets:
            rows = (
                (number, values)
                for number, values in enumerate(sheet.iter_rows(values_only=True), start=1)
            )
            yield Sheet(f"{path.name}, sheet {sheet.title!r}", rows)
    finally:
        book.close()


def _csv_records(text: str, delimiter: str) -> Iterator[NumberedRow]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    while True:
        line = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise CatalogImportError(f"line {line}: unreadable CSV: {exc}") from exc
        yield line, list(row)


def _csv_sheets(path: Path) -> Generator[Sheet, None, None]:
    text, _encoding = decode_table(path.read_bytes())
    if not text.strip():
        raise CatalogImportError(f"{path} is empty")
    if "\x00" in text:
        raise CatalogImportError(f"{path} is neither an XLSX file nor a CSV text table")
    # Title rows above the header defeat a guess from the first line alone: the guess
    # goes first, the other separators are tried when no header is found with it.
    first = next((line for line in text.splitlines() if line.strip()), "")
    guess = sniff_delimiter(first)
    for delimiter in dict.fromkeys((guess, ";", ",", "\t")):
        yield Sheet(path.name, _csv_records(text, delimiter), text_cells=True)


def read_sheets(path: Path) -> Generator[Sheet, None, None]:
    """The tables of an XLSX (each sheet) or CSV file (each plausible separator).

    Raises:
        CatalogImportError: the file is missing, empty, password protected, or neither
            XLSX nor CSV.
    """
    if _sniff_kind(path) == "xlsx":
        return _xlsx_sheets(path)
    return _csv_sheets(path)
