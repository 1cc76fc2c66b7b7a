"""The bot's texts as gettext catalogs: reading, checking and regenerating them.

The catalogs live in ``bot/i18n/locales``: ``messages.pot`` (the template) and
``<lang>/LC_MESSAGES/sellerdesk.po`` for ru, en and zh. Each entry is one text:

    #. buyer
    msgctxt "welcome"
    msgid "Hello! This is {shop} support. Ask a question about a product or an order."
    msgstr "Здравствуйте! Это поддержка магазина «{shop}». Задайте вопрос о товаре или заказе."

``msgctxt`` is the key code uses (``text("welcome", lang, shop=...)``), ``msgid`` the
English text and ``msgstr`` the text in the catalog's language (in the en catalog
too). The ``#.`` comment names the group the text belongs to (who reads it); entries
are kept sorted by group, then key. ``{name}`` placeholders are filled in by
:func:`bot.i18n.texts.text` and must be the same in every language.

Commands (``python -m sellerdesk.bot.i18n.catalog ...``):

- ``check``: keys missing or untranslated in a catalog, placeholders that differ
  between languages, an out-of-date template; exit status 1 when anything is wrong.
- ``extract``: regenerate ``messages.pot`` from the en catalog and merge it into the
  ru and zh catalogs: a new key appears with an empty ``msgstr`` flagged fuzzy, a key
  whose English text changed keeps its translation flagged fuzzy (the old English is
  kept as ``#| msgid``), a key gone from en moves to the obsolete ``#~`` entries.

Fuzzy or empty translations are never shown: the bot falls back to English.

Longer than ~500 lines on purpose: reading, checking and merging the catalogs share one
reader of .po files and one idea of a key.
"""

from __future__ import annotations

import argparse
import re
import string
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import PoFileError, read_po, unescape, write_po

#: Languages the bot speaks, in the order menus and checks list them.
LANGUAGES = ("ru", "en", "zh")
#: The language of ``msgid``: its catalog is the source of every other one.
SOURCE_LANGUAGE = "en"
DOMAIN = "sellerdesk"
#: How the catalogs are checked and merged from the command line.
COMMAND = "python -m sellerdesk.bot.i18n.catalog"
EXTRACT_COMMAND = f"{COMMAND} extract"

LOCALES_DIR = Path(__file__).resolve().parent / "locales"
TEMPLATE_NAME = "messages.pot"
#: Groups of texts, in catalog order: the ``#.`` comment of each entry.
GROUPS = (
    "buyer",
    "buyer: returns",
    "staff",
    "staff: deadlines",
    "staff: returns",
    "staff: daily digest",
    "stats",
    "admin chat",
    "command menus",
)
#: The flag gettext tools use for ``str.format`` placeholders.
BRACE_FORMAT = "python-brace-format"
_HEADER_COMMENT = (
    "# sellerdesk: what the bot says ({language}).\n"
    '# msgctxt is the key used in code (text("key", lang)), msgid the English text,\n'
    "# msgstr the text in this language. Keep {{placeholders}} as they are.\n"
    "# Check with: python -m sellerdesk.bot.i18n.catalog check"
)
_MSGCTXT_LINE = re.compile(r'^msgctxt\s+"(.*)"\s*$')


class CatalogError(ValueError):
    """A catalog cannot be read; the message names the file and line."""


@dataclass(frozen=True)
class Entry:
    """One text of a catalog."""

    key: str
    english: str
    translation: str
    group: str = ""
    fuzzy: bool = False
    #: Line of the entry in its file (0 when built in memory).
    lineno: int = 0
    #: The English text the translation was made for, when it changed since (``#|``).
    previous_english: str = ""

    @property
    def translated(self) -> bool:
        return bool(self.translation) and not self.fuzzy


@dataclass(frozen=True)
class PoFile:
    """A catalog file as read: its entries by key, its obsolete ones, its dates."""

    path: Path
    entries: dict[str, Entry]
    obsolete: dict[str, Entry]
    creation_date: datetime | str
    revision_date: datetime | str


def catalog_path(lang: str, locales: Path = LOCALES_DIR) -> Path:
    return locales / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def template_path(locales: Path = LOCALES_DIR) -> Path:
    return locales / TEMPLATE_NAME


def placeholders(value: str) -> frozenset[str]:
    """The ``{name}`` fields of ``value``.

    Raises:
        ValueError: ``value`` is not a valid format string (a lone ``{`` or ``}``).
    """
    fields = {name for _, name, _, _ in string.Formatter().parse(value) if name is not None}
    return frozenset(fields)


def _group_of(message: Message) -> str:
    comments = [c.strip() for c in message.auto_comments if c.strip()]
    return comments[0] if comments else ""


def _entry(message: Message, context: str) -> Entry:
    translation = message.string if isinstance(message.string, str) else ""
    return Entry(
        key=context,
        english=str(message.id),
        translation=translation,
        group=_group_of(message),
        fuzzy=message.fuzzy,
        lineno=message.lineno or 0,
    )


@dataclass(frozen=True)
class _RawScan:
    """What Babel's reader does not keep: where each key is, its ``#| msgid``."""

    lines: dict[str, int]
    previous: dict[str, str]


def _scan(path: Path, lines: Sequence[str]) -> _RawScan:
    """The line of each ``msgctxt`` and the old English of fuzzy entries; a key given
    twice is an error."""
    seen: dict[str, int] = {}
    previous: dict[str, str] = {}
    pending: list[str] = []
    for number, line in enumerate(lines, start=1):
        if line.startswith("#| msgid "):
            pending = [line.removeprefix("#| msgid ").strip()]
            continue
        if line.startswith('#| "') and pending:
            pending.append(line[3:].strip())
            continue
        if not line.strip():
            pending = []
        found = _MSGCTXT_LINE.match(line)
        if found is None:
            continue
        key = found.group(1)
        if key in seen:
            raise CatalogError(
                f"{path}:{number}: msgctxt {key!r} appears twice (first at line {seen[key]})"
            )
        seen[key] = number
        if pending:
            previous[key] = "".join(unescape(part) for part in pending)
            pending = []
    return _RawScan(seen, previous)


def read_catalog(path: Path) -> PoFile:
    """Read one .po or .pot file.

    Raises:
        CatalogError: the file is missing or malformed, or an entry has no
            ``msgctxt`` or repeats one (the message is ``file:line: what``).
    """
    try:
        raw = path.read_bytes()
        lines = raw.decode("utf-8").splitlines()
    except OSError as exc:
        raise CatalogError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise CatalogError(f"{path}: not UTF-8 ({exc.reason})") from exc
    raw_scan = _scan(path, lines)
    try:
        catalog = read_po(lines, domain=DOMAIN, abort_invalid=True, charset="utf-8")
    except PoFileError as exc:
        # Babel counts lines from 0; editors and the message here count from 1.
        reason = str(exc).rsplit(" on ", 1)[0]
        raise CatalogError(f"{path}:{exc.lineno + 1}: {reason}: {exc.line.strip()!r}") from exc
    except (ValueError, SyntaxError) as exc:  # e.g. a bad escape inside a string
        raise CatalogError(f"{path}: malformed: {exc}") from exc
    entries: dict[str, Entry] = {}
    for message in catalog:
        if not message.id:
            continue  # the header
        if isinstance(message.id, tuple) or not isinstance(message.string, str | None):
            raise CatalogError(f"{path}:{message.lineno}: plural forms are not used here")
        if not message.context:
            raise CatalogError(
                f"{path}:{message.lineno}: entry {message.id!r} has no msgctxt "
                "(the key used in code)"
            )
        entry = _entry(message, message.context)
        entries[entry.key] = replace(
            entry,
            lineno=raw_scan.lines.get(entry.key, entry.lineno),
            previous_english=raw_scan.previous.get(entry.key, ""),
        )
    obsolete = {
        str(m.context): _entry(m, str(m.context))
        for m in catalog.obsolete.values()
        if m.context and isinstance(m.id, str)
    }
    return PoFile(
        path=path,
        entries=entries,
        obsolete=obsolete,
        creation_date=catalog.creation_date,
        revision_date=_as_date(catalog.revision_date),
    )


def _as_date(value: object) -> datetime | str:
    """A catalog's revision date as Babel accepts it back (a datetime, or the
    ``YEAR-MO-DA`` placeholder of a template)."""
    return value if isinstance(value, datetime) else str(value)


def english_text(entry: Entry) -> str:
    """The English text of an en catalog entry: its msgstr, else its msgid."""
    return entry.translation or entry.english


def load_texts(locales: Path = LOCALES_DIR) -> dict[str, dict[str, str]]:
    """Every text by language and key, English where a translation is empty or fuzzy.

    Raises:
        CatalogError: a catalog is missing or malformed.
    """
    source = read_catalog(catalog_path(SOURCE_LANGUAGE, locales))
    english = {key: english_text(entry) for key, entry in source.entries.items()}
    texts: dict[str, dict[str, str]] = {SOURCE_LANGUAGE: english}
    for lang in LANGUAGES:
        if lang == SOURCE_LANGUAGE:
            continue
        entries = read_catalog(catalog_path(lang, locales)).entries
        texts[lang] = {
            key: entries[key].translation if key in entries and entries[key].translated else value
            for key, value in english.items()
        }
    return texts


# ------------------------------------------------------------------------- writing


def group_order(entry: Entry) -> tuple[int, str, str]:
    """Sort key of catalog entries: known groups in :data:`GROUPS` order, then the
    unknown ones by name, then by key."""
    known = entry.group in GROUPS
    if known:
        return (GROUPS.index(entry.group), "", entry.key)
    return (len(GROUPS), entry.group, entry.key)


def _message(entry: Entry, *, template: bool) -> Message:
    try:
        braces = bool(placeholders(entry.english))
    except ValueError:
        braces = False
    flags = {BRACE_FORMAT} if braces else set()
    if entry.fuzzy and not template:
        flags.add("fuzzy")
    message = Message(
        entry.english,
        "" if template else entry.translation,
        auto_comments=[entry.group] if entry.group else [],
        flags=flags,
        previous_id=[entry.previous_english] if entry.previous_english and not template else [],
        context=entry.key,
    )
    message.flags.discard("python-format")  # Babel's guess for "%" signs; these use {}
    return message


def write_catalog(
    path: Path,
    entries: Iterable[Entry],
    lang: str | None,
    *,
    obsolete: Iterable[Entry] = (),
    dates: tuple[datetime | str, datetime | str] | None = None,
) -> None:
    """Write ``entries`` sorted by group and key (``lang`` None: the template, with
    empty translations)."""
    template = lang is None
    catalog = Catalog(
        locale=lang,
        domain=DOMAIN,
        project="sellerdesk",
        version="1",
        header_comment=_HEADER_COMMENT.format(language=lang or "template"),
        msgid_bugs_address="-",
        last_translator="-" if template else "sellerdesk",
        language_team="-" if template else f"sellerdesk {lang}",
        fuzzy=False,
    )
    if dates is not None:
        catalog.creation_date, catalog.revision_date = dates
    elif not template:
        catalog.revision_date = catalog.creation_date
    for entry in sorted(entries, key=group_order):
        catalog[entry.english] = _message(entry, template=template)
    for entry in sorted(obsolete, key=group_order):
        catalog.obsolete[(entry.english, entry.key)] = _message(entry, template=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as out:
        write_po(out, catalog, width=100, omit_header=False, include_previous=True)


# ----------------------------------------------------------------------- extract


def merge(source: dict[str, Entry], existing: PoFile | None) -> tuple[list[Entry], list[Entry]]:
    """A translated catalog brought up to date with the English ``source``:
    (entries, obsolete entries)."""
    old = existing.entries if existing else {}
    merged: list[Entry] = []
    for key, english in source.items():
        entry = old.get(key) or (existing.obsolete.get(key) if existing else None)
        if entry is None:
            merged.append(replace(english, translation="", fuzzy=True, lineno=0))
        elif entry.english != english.english:
            merged.append(
                replace(
                    entry,
                    english=english.english,
                    group=english.group,
                    fuzzy=True,
                    previous_english=entry.previous_english or entry.english,
                )
            )
        else:
            merged.append(replace(entry, group=english.group))
    gone = [e for key, e in old.items() if key not in source]
    kept_obsolete = [
        e for key, e in (existing.obsolete.items() if existing else ()) if key not in source
    ]
    return merged, gone + kept_obsolete


def _dates(path: Path) -> tuple[datetime | str, datetime | str] | None:
    if not path.is_file():
        return None
    po = read_catalog(path)
    return po.creation_date, po.revision_date


def extract(locales: Path = LOCALES_DIR) -> list[str]:
    """Regenerate the template from the en catalog and merge it into the others;
    returns what changed, one line per catalog."""
    en_path = catalog_path(SOURCE_LANGUAGE, locales)
    en = read_catalog(en_path)
    source = {
        key: replace(e, english=english_text(e), translation=english_text(e), fuzzy=False)
        for key, e in en.entries.items()
    }
    write_catalog(en_path, source.values(), SOURCE_LANGUAGE, dates=_dates(en_path))
    pot = template_path(locales)
    write_catalog(pot, source.values(), None, dates=_dates(pot))
    report = [f"{pot}: {len(source)} keys"]
    for lang in LANGUAGES:
        if lang == SOURCE_LANGUAGE:
            continue
        path = catalog_path(lang, locales)
        existing = read_catalog(path) if path.is_file() else None
        entries, obsolete = merge(source, existing)
        write_catalog(path, entries, lang, obsolete=obsolete, dates=_dates(path))
        todo = sum(1 for e in entries if not e.translated)
        report.append(f"{path}: {len(entries)} keys, {todo} to translate, {len(obsolete)} obsolete")
    return report


# ------------------------------------------------------------------------- check


def _placeholder_problems(path: Path, entry: Entry, expected: frozenset[str]) -> list[str]:
    where = f"{path}:{entry.lineno}: {entry.key}"
    try:
        found = placeholders(entry.translation)
    except ValueError as exc:
        return [f"{where}: not a valid format string ({exc}); write a literal brace as {{{{ }}}}"]
    if found != expected:
        want = ", ".join(f"{{{n}}}" for n in sorted(expected)) or "none"
        got = ", ".join(f"{{{n}}}" for n in sorted(found)) or "none"
        return [f"{where}: placeholders {got}, the English text has {want}"]
    return []


def check(locales: Path = LOCALES_DIR) -> list[str]:
    """Every problem of the catalogs, one ``file:line: key: what`` line each."""
    problems: list[str] = []
    catalogs: dict[str, PoFile] = {}
    for lang in LANGUAGES:
        try:
            catalogs[lang] = read_catalog(catalog_path(lang, locales))
        except CatalogError as exc:
            problems.append(str(exc))
    en = catalogs.get(SOURCE_LANGUAGE)
    if en is None:
        return problems
    english: dict[str, frozenset[str]] = {}
    for key, entry in en.entries.items():
        text = english_text(entry)
        try:
            english[key] = placeholders(text)
        except ValueError as exc:
            problems.append(f"{en.path}:{entry.lineno}: {key}: not a valid format string ({exc})")
            english[key] = frozenset()
        if entry.translation and entry.translation != entry.english:
            problems.append(
                f"{en.path}:{entry.lineno}: {key}: msgstr differs from msgid; "
                f"run `{EXTRACT_COMMAND}` to make it the English text"
            )
    for lang, po in catalogs.items():
        for key in english.keys() - po.entries.keys():
            problems.append(f"{po.path}: {key}: missing (run `{EXTRACT_COMMAND}`)")
        for key, entry in po.entries.items():
            where = f"{po.path}:{entry.lineno}: {key}"
            if key not in english:
                problems.append(f"{where}: not in the en catalog (add it there, or remove it)")
                continue
            if lang == SOURCE_LANGUAGE:
                continue
            if not entry.translation:
                problems.append(f"{where}: not translated")
                continue
            if entry.fuzzy:
                problems.append(f"{where}: fuzzy (check the translation, then drop the flag)")
            if entry.english != english_text(en.entries[key]):
                problems.append(
                    f"{where}: msgid is not the current English text (run `{EXTRACT_COMMAND}`)"
                )
            problems += _placeholder_problems(po.path, entry, english[key])
    problems += _template_problems(locales, english.keys())
    return problems


def _template_problems(locales: Path, keys: Iterable[str]) -> list[str]:
    path = template_path(locales)
    try:
        template = read_catalog(path)
    except CatalogError as exc:
        return [str(exc)]
    differ = Counter(keys)
    differ.subtract(template.entries.keys())
    if any(differ.values()):
        return [f"{path}: out of date with the en catalog (run `{EXTRACT_COMMAND}`)"]
    return []


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=COMMAND, description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=("check", "extract"))
    parser.add_argument("--locales", type=Path, default=LOCALES_DIR, help="catalog directory")
    args = parser.parse_args(argv)
    if args.command == "extract":
        try:
            for line in extract(args.locales):
                print(line)
        except CatalogError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        return 0
    problems = check(args.locales)
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} problem(s)", file=sys.stderr)
        return 1
    count = len(read_catalog(catalog_path(SOURCE_LANGUAGE, args.locales)).entries)
    print(f"ok: {count} keys in {', '.join(LANGUAGES)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
