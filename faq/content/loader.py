"""Loading and validating seller content (content-format.md, section 1).

Admins write these files by hand, so every problem is reported with the file, the
line, the key and what was expected, and all problems of a file are reported at once
(fixing one error to discover the next is the worst way to edit a file).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from sellerdesk.faq.content.errors import ContentError, Problem
from sellerdesk.faq.content.model import (
    ANY_LANG,
    Content,
    Entry,
    Product,
    Returns,
    Seller,
    Sla,
    Template,
)

SELLER_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,31}$")
#: The files read from a seller's folder; nothing else in it is content.
SELLER_FILES = frozenset({"seller.yaml", "faq.yaml", "products.csv", "templates.yaml"})
ENTRY_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
LANG_CODE = re.compile(r"^[a-z]{2,3}$")
DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd])\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}

PRODUCT_COLUMNS = ("offer_id", "name", "description")


def parse_duration(value: str) -> timedelta | None:
    """``90s``, ``15m``, ``24h``, ``2d`` -> timedelta; None when the text is no duration."""
    match = DURATION.match(value)
    if not match:
        return None
    return timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2)])


class _Checker:
    """Walks a YAML node tree, turning nodes into values and recording problems."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.problems: list[Problem] = []

    def problem(self, node: Node | None, key: str | None, message: str) -> None:
        line = node.start_mark.line + 1 if node is not None else None
        self.problems.append(Problem(self.path, line, key, message))

    def compose(self, text: str) -> Node | None:
        # YAML 1.2 (ruamel): "[Сколько идет доставка?, Когда придет заказ?]" is two
        # questions, as content-format.md writes them (YAML 1.1 parsers choke on the "?"),
        # and "yes"/"no" stay text instead of silently becoming booleans.
        try:
            node: Node | None = YAML(typ="safe", pure=True).compose(text)
            return node
        except MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = mark.line + 1 if mark is not None else None
            what = exc.problem or exc.context or "invalid YAML"
            self.problems.append(Problem(self.path, line, None, f"invalid YAML: {what}"))
        except YAMLError as exc:
            self.problems.append(Problem(self.path, None, None, f"invalid YAML: {exc}"))
        return None

    def mapping(
        self,
        node: Node | None,
        key: str,
        required: tuple[str, ...],
        optional: tuple[str, ...],
    ) -> dict[str, tuple[Node, Node]] | None:
        """The keys of a mapping node; unknown, duplicate and missing keys are problems."""
        if not isinstance(node, MappingNode):
            self.problem(node, key, "expected a mapping of keys to values")
            return None
        found: dict[str, tuple[Node, Node]] = {}
        allowed = set(required) | set(optional)
        for key_node, value_node in node.value:
            name = key_node.value if isinstance(key_node, ScalarNode) else str(key_node)
            label = f"{key}.{name}" if key else name
            if name in found:
                self.problem(key_node, label, "duplicate key")
                continue
            if name not in allowed:
                hint = _closest(name, allowed)
                extra = f" (did you mean {hint!r}?)" if hint else ""
                self.problem(
                    key_node,
                    label,
                    f"unknown key{extra}; allowed: {', '.join(sorted(allowed))}",
                )
                continue
            found[name] = (key_node, value_node)
        for name in required:
            if name not in found:
                label = f"{key}.{name}" if key else name
                self.problem(node, label, "missing required key")
        return found

    def scalar(self, node: Node) -> Any:
        """The Python value of a plain scalar node, by its resolved YAML 1.2 tag."""
        tag = str(node.tag)
        value = str(node.value)
        if tag.endswith(":bool"):
            return value.lower() == "true"
        if tag.endswith(":int"):
            try:
                return int(value.replace("_", ""), 0)
            except ValueError:
                return value
        if tag.endswith(":null"):
            return None
        return value

    def string(self, node: Node, key: str, *, allow_empty: bool = False) -> str | None:
        if not isinstance(node, ScalarNode) or str(node.tag).endswith(":null"):
            self.problem(node, key, "expected text")
            return None
        # Numbers and booleans written where text is expected are kept as written.
        value = str(node.value)
        if not allow_empty and not value.strip():
            self.problem(node, key, "must not be empty")
            return None
        return value

    def integer(self, node: Node, key: str) -> int | None:
        value = self.scalar(node) if isinstance(node, ScalarNode) else None
        if isinstance(value, bool) or not isinstance(value, int):
            self.problem(node, key, "expected a whole number (a Telegram id)")
            return None
        return value

    def boolean(self, node: Node, key: str) -> bool | None:
        value = self.scalar(node) if isinstance(node, ScalarNode) else None
        if not isinstance(value, bool):
            self.problem(node, key, "expected true or false")
            return None
        return value

    def sequence(self, node: Node, key: str) -> list[Node] | None:
        if not isinstance(node, SequenceNode):
            self.problem(node, key, "expected a list")
            return None
        return list(node.value)

    def duration(self, node: Node, key: str) -> timedelta | None:
        text = node.value if isinstance(node, ScalarNode) else None
        value = parse_duration(str(text)) if text is not None else None
        if value is None or value <= timedelta(0):
            self.problem(node, key, "expected a duration such as 90s, 15m, 24h or 2d")
            return None
        return value

    def lang(self, node: Node, key: str) -> str | None:
        value = node.value if isinstance(node, ScalarNode) else None
        if not isinstance(value, str) or not LANG_CODE.match(value):
            self.problem(node, key, "expected a language code such as ru, en or zh")
            return None
        return value

    def per_language(
        self,
        node: Node,
        key: str,
        item: Callable[[Node, str], Any],
    ) -> dict[str, Any] | None:
        """A value given either plainly or as a map language -> value."""
        if not isinstance(node, MappingNode):
            value = item(node, key)
            return None if value is None else {ANY_LANG: value}
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            lang = self.lang(key_node, key)
            if lang is None:
                continue
            if lang in result:
                self.problem(key_node, f"{key}.{lang}", "duplicate language")
                continue
            value = item(value_node, f"{key}.{lang}")
            if value is not None:
                result[lang] = value
        if not node.value:
            self.problem(node, key, "must not be empty")
        return result or None


def _closest(name: str, options: set[str]) -> str | None:
    from rapidfuzz import process
    from rapidfuzz.distance import OSA

    # OSA counts a swap of two letters as one edit: "nmae" is one typo away from "name".
    found = process.extractOne(name, sorted(options), scorer=OSA.normalized_similarity)
    if found and found[1] >= 0.6:
        return str(found[0])
    return None


def _read_text(path: Path, checker: _Checker) -> str | None:
    try:
        data = path.read_bytes()
    except OSError as exc:
        checker.problems.append(Problem(path, None, None, f"cannot read: {exc.strerror}"))
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        checker.problems.append(Problem(path, line, None, "not UTF-8 text; save the file as UTF-8"))
        return None


def _load_yaml(path: Path, checker: _Checker) -> Node | None:
    text = _read_text(path, checker)
    if text is None:
        return None
    node = checker.compose(text)
    if node is None and not checker.problems:
        checker.problem(None, None, "the file is empty")
    return node


# --------------------------------------------------------------------------- seller.yaml

_SELLER_REQUIRED = ("name", "support_chat_id", "languages")
_SELLER_OPTIONAL = (
    "topics",
    "staff",
    "greeting",
    "sla",
    "returns",
    "timezone",
    "digest_hour",
    "staff_language",
)
#: Languages the bot has its own texts in (cards, buttons, reminders).
BOT_LANGUAGES = ("ru", "en", "zh")
_SLA_KEYS = ("first_reply", "remind_after", "escalate_after")
_RETURNS_KEYS = ("decide_within",)
#: Hours of the day a digest may be sent at.
_HOURS = range(24)


def _parse_returns(c: _Checker, node: Node) -> Returns:
    keys = c.mapping(node, "returns", (), _RETURNS_KEYS)
    default = Returns()
    if keys is None or "decide_within" not in keys:
        return default
    decide = c.duration(keys["decide_within"][1], "returns.decide_within")
    return Returns(decide_within=decide or default.decide_within)


def _parse_timezone(c: _Checker, node: Node) -> str | None:
    name = c.string(node, "timezone")
    if name is None:
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        c.problem(
            node, "timezone", f"unknown time zone {name!r}; use an IANA name such as Europe/Moscow"
        )
        return None
    return name


def _parse_staff_language(c: _Checker, node: Node, languages: tuple[str, ...]) -> str | None:
    value = c.lang(node, "staff_language")
    if value is None:
        return None
    allowed = tuple(dict.fromkeys((*languages, *BOT_LANGUAGES)))
    if value not in allowed:
        c.problem(node, "staff_language", f"expected one of {', '.join(allowed)}, not {value!r}")
        return None
    return value


def _parse_hour(c: _Checker, node: Node) -> int | None:
    value = c.scalar(node) if isinstance(node, ScalarNode) else None
    if isinstance(value, bool) or not isinstance(value, int) or value not in _HOURS:
        c.problem(node, "digest_hour", "expected an hour of the day, 0 to 23")
        return None
    return value


def _parse_sla(c: _Checker, node: Node) -> Sla:
    keys = c.mapping(node, "sla", (), _SLA_KEYS)
    default = Sla()
    if keys is None:
        return default
    first_reply = default.first_reply
    if "first_reply" in keys:
        first_reply = c.duration(keys["first_reply"][1], "sla.first_reply") or first_reply
    escalate_after = default.escalate_after
    if "escalate_after" in keys:
        escalate_after = (
            c.duration(keys["escalate_after"][1], "sla.escalate_after") or escalate_after
        )
    remind_after = default.remind_after
    if "remind_after" in keys:
        items = c.sequence(keys["remind_after"][1], "sla.remind_after")
        if items is not None:
            parsed = [c.duration(n, "sla.remind_after") for n in items]
            values = [v for v in parsed if v is not None]
            if values != sorted(values):
                c.problem(keys["remind_after"][1], "sla.remind_after", "list them in order")
            remind_after = tuple(values)
    return Sla(first_reply=first_reply, remind_after=remind_after, escalate_after=escalate_after)


def load_seller_file(path: Path, seller_id: str) -> tuple[dict[str, Any], list[Problem]]:
    """Read seller.yaml into the keyword arguments of :class:`Seller` (minus content)."""
    c = _Checker(path)
    root = _load_yaml(path, c)
    if root is None:
        return {}, c.problems
    keys = c.mapping(root, "", _SELLER_REQUIRED, _SELLER_OPTIONAL)
    if keys is None:
        return {}, c.problems
    out: dict[str, Any] = {"id": seller_id}
    if "name" in keys:
        out["name"] = c.string(keys["name"][1], "name")
    if "support_chat_id" in keys:
        out["support_chat_id"] = c.integer(keys["support_chat_id"][1], "support_chat_id")
    if "topics" in keys:
        topics = c.boolean(keys["topics"][1], "topics")
        if topics is not None:
            out["topics"] = topics
    if "languages" in keys:
        items = c.sequence(keys["languages"][1], "languages")
        if items is not None:
            langs = [c.lang(n, "languages") for n in items]
            if not items:
                c.problem(keys["languages"][1], "languages", "list at least one language")
            elif len(set(langs)) != len(langs):
                c.problem(keys["languages"][1], "languages", "a language is listed twice")
            out["languages"] = tuple(x for x in langs if x)
    if "staff" in keys:
        items = c.sequence(keys["staff"][1], "staff")
        if items is not None:
            staff = [c.integer(n, "staff") for n in items]
            out["staff"] = tuple(s for s in staff if s is not None)
    if "greeting" in keys:
        greeting = c.per_language(keys["greeting"][1], "greeting", c.string)
        if greeting is not None:
            out["greeting"] = greeting
    if "sla" in keys:
        out["sla"] = _parse_sla(c, keys["sla"][1])
    if "returns" in keys:
        out["returns"] = _parse_returns(c, keys["returns"][1])
    if "timezone" in keys:
        zone = _parse_timezone(c, keys["timezone"][1])
        if zone is not None:
            out["timezone"] = zone
    if "digest_hour" in keys:
        hour = _parse_hour(c, keys["digest_hour"][1])
        if hour is not None:
            out["digest_hour"] = hour
    if "staff_language" in keys:
        staff_language = _parse_staff_language(
            c, keys["staff_language"][1], out.get("languages", ())
        )
        if staff_language is not None:
            out["staff_language"] = staff_language
    return out, c.problems


# ------------------------------------------------------------------------------ faq.yaml

_ENTRY_REQUIRED = ("id", "questions", "answer")
_ENTRY_OPTIONAL = ("keywords", "handoff")


def _question_list(c: _Checker, node: Node, key: str) -> tuple[str, ...] | None:
    items = c.sequence(node, key)
    if items is None:
        return None
    if not items:
        c.problem(node, key, "list at least one question")
        return None
    values = [c.string(n, key) for n in items]
    return tuple(v.strip() for v in values if v)


def load_faq_file(path: Path) -> tuple[list[Entry], list[Problem]]:
    """Read faq.yaml; every entry error is collected, the good entries are returned."""
    c = _Checker(path)
    root = _load_yaml(path, c)
    if root is None:
        return [], c.problems
    keys = c.mapping(root, "", ("entries",), ())
    if keys is None or "entries" not in keys:
        return [], c.problems
    items = c.sequence(keys["entries"][1], "entries")
    entries: list[Entry] = []
    seen: dict[str, int] = {}
    for index, node in enumerate(items or []):
        label = f"entries[{index}]"
        fields = c.mapping(node, label, _ENTRY_REQUIRED, _ENTRY_OPTIONAL)
        if fields is None:
            continue
        entry_id: str | None = None
        if "id" in fields:
            raw = c.string(fields["id"][1], f"{label}.id")
            if raw is not None and not ENTRY_ID.match(raw):
                c.problem(
                    fields["id"][1],
                    f"{label}.id",
                    f"{raw!r} is not a valid id: lowercase letters, digits and '-'",
                )
            elif raw is not None:
                if raw in seen:
                    c.problem(
                        fields["id"][1],
                        f"{label}.id",
                        f"duplicate id {raw!r} (first on line {seen[raw]})",
                    )
                else:
                    entry_id = raw
                    seen[raw] = node.start_mark.line + 1
                label = f"entry {raw}"
        questions = None
        if "questions" in fields:
            questions = c.per_language(
                fields["questions"][1], f"{label}.questions", lambda n, k: _question_list(c, n, k)
            )
        answer = None
        if "answer" in fields:
            answer = c.per_language(fields["answer"][1], f"{label}.answer", c.string)
        keywords: tuple[str, ...] = ()
        if "keywords" in fields:
            kw_items = c.sequence(fields["keywords"][1], f"{label}.keywords")
            if kw_items is not None:
                kws = [c.string(n, f"{label}.keywords") for n in kw_items]
                keywords = tuple(k.strip() for k in kws if k)
        handoff = False
        if "handoff" in fields:
            handoff = bool(c.boolean(fields["handoff"][1], f"{label}.handoff"))
        if entry_id and questions and answer:
            entries.append(
                Entry(
                    id=entry_id,
                    questions=questions,
                    answer=answer,
                    keywords=keywords,
                    handoff=handoff,
                    line=node.start_mark.line + 1,
                )
            )
    return entries, c.problems


# ------------------------------------------------------------------------ templates.yaml


_TEMPLATE_KEYS = ("id", "text")


def load_templates_file(path: Path) -> tuple[list[Template], list[Problem]]:
    """Read templates.yaml (staff quick replies)."""
    c = _Checker(path)
    root = _load_yaml(path, c)
    if root is None:
        return [], c.problems
    keys = c.mapping(root, "", ("templates",), ())
    if keys is None or "templates" not in keys:
        return [], c.problems
    templates: list[Template] = []
    seen: set[str] = set()
    for index, node in enumerate(c.sequence(keys["templates"][1], "templates") or []):
        label = f"templates[{index}]"
        fields = c.mapping(node, label, _TEMPLATE_KEYS, ())
        if fields is None:
            continue
        tid = c.string(fields["id"][1], f"{label}.id") if "id" in fields else None
        if tid is not None and not ENTRY_ID.match(tid):
            c.problem(fields["id"][1], f"{label}.id", f"{tid!r} is not a valid id")
            tid = None
        if tid is not None and tid in seen:
            c.problem(fields["id"][1], f"{label}.id", f"duplicate id {tid!r}")
            tid = None
        text = (
            c.per_language(fields["text"][1], f"{label}.text", c.string)
            if "text" in fields
            else None
        )
        if tid and text:
            seen.add(tid)
            templates.append(Template(id=tid, text=text))
    return templates, c.problems


# --------------------------------------------------------------------------- products.csv


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
    header = [h.strip() for h in header]
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
        if len(row) > len(header):
            problems.append(
                Problem(path, line, None, f"{len(row)} cells but the header has {len(header)}")
            )
            continue
        row = row + [""] * (len(header) - len(row))
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


# ------------------------------------------------------------------------------- folders


def load_seller(folder: Path) -> Seller:
    """Load one seller folder; raises ContentError with every problem of every file."""
    problems: list[Problem] = []
    seller_id = folder.name
    if not SELLER_ID.match(seller_id):
        problems.append(
            Problem(
                folder,
                None,
                None,
                f"folder name {seller_id!r} is not a seller id: 2-32 of a-z, 0-9, '-', "
                "starting with a letter or digit",
            )
        )
    seller_path = folder / "seller.yaml"
    faq_path = folder / "faq.yaml"
    fields: dict[str, Any] = {}
    entries: list[Entry] = []
    if not seller_path.is_file():
        problems.append(Problem(seller_path, None, None, "missing: every seller needs seller.yaml"))
    else:
        fields, found = load_seller_file(seller_path, seller_id)
        problems += found
    if not faq_path.is_file():
        problems.append(Problem(faq_path, None, None, "missing: every seller needs faq.yaml"))
    else:
        entries, found = load_faq_file(faq_path)
        problems += found
    products: list[Product] = []
    if (folder / "products.csv").is_file():
        products, found = load_products_file(folder / "products.csv")
        problems += found
    templates: list[Template] = []
    if (folder / "templates.yaml").is_file():
        templates, found = load_templates_file(folder / "templates.yaml")
        problems += found
    if problems:
        raise ContentError(sorted(problems, key=_problem_order))
    return Seller(
        **fields,
        entries=tuple(entries),
        products=tuple(products),
        templates=tuple(templates),
        path=folder,
    )


def _problem_order(problem: Problem) -> tuple[str, int]:
    return (str(problem.path), problem.line or 0)


def seller_folders(root: Path) -> list[Path]:
    """The seller folders of a content directory (hidden folders are skipped)."""
    return sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))


def load_content(root: Path) -> Content:
    """Load every seller under ``root``; raises ContentError listing every problem found."""
    if not root.is_dir():
        raise ContentError([Problem(root, None, None, "content directory not found")])
    problems: list[Problem] = []
    sellers: dict[str, Seller] = {}
    for folder in seller_folders(root):
        try:
            seller = load_seller(folder)
        except ContentError as exc:
            problems += exc.problems
            continue
        sellers[seller.id] = seller
    if problems:
        raise ContentError(problems)
    if not sellers:
        raise ContentError([Problem(root, None, None, "no seller folders found")])
    return Content(sellers=sellers, root=root)


# ------------------------------------------------------------------------- known keys


def known_keys() -> dict[str, frozenset[str]]:
    """Every key the loader accepts, by place in the files (``seller.sla``: the keys of
    seller.yaml's ``sla`` mapping; ``faq.entry``: the keys of one FAQ entry).

    The JSON Schemas in ``faq/schemas`` describe the same keys; a test keeps them equal.
    """
    return {
        "seller": frozenset(_SELLER_REQUIRED + _SELLER_OPTIONAL),
        "seller.sla": frozenset(_SLA_KEYS),
        "seller.returns": frozenset(_RETURNS_KEYS),
        "faq": frozenset({"entries"}),
        "faq.entry": frozenset(_ENTRY_REQUIRED + _ENTRY_OPTIONAL),
        "templates": frozenset({"templates"}),
        "templates.template": frozenset(_TEMPLATE_KEYS),
    }


def required_keys() -> dict[str, frozenset[str]]:
    """The keys of :func:`known_keys` that must be present, by the same places."""
    return {
        "seller": frozenset(_SELLER_REQUIRED),
        "faq": frozenset({"entries"}),
        "faq.entry": frozenset(_ENTRY_REQUIRED),
        "templates": frozenset({"templates"}),
        "templates.template": frozenset(_TEMPLATE_KEYS),
    }
