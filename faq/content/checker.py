"""Reading hand-written content files: YAML nodes into values, with every problem's
file, line and key (:class:`Checker`), and the formats several files share."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.composer import Composer
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import AliasEvent
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from sellerdesk.faq.content.errors import Problem
from sellerdesk.faq.content.model import (
    ANY_LANG,
)

SELLER_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,31}$")
#: The files read from a seller's folder; nothing else in it is content.
SELLER_FILES = frozenset({"seller.yaml", "faq.yaml", "products.csv", "templates.yaml"})
ENTRY_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
LANG_CODE = re.compile(r"^[a-z]{2,3}$")
#: What to do about the YAML parser's commonest complaints, by a piece of its message.
YAML_ADVICE = (
    ("'\\t'", "tabs cannot indent YAML: indent with spaces"),
    ("mapping values are not allowed", "put text that has ': ' in quotes, or check the indent"),
    ("expected <block end>", "indent this line exactly like the keys above it"),
    ("could not find expected ':'", "a key needs ':' after it; check the line's indent"),
    ("found undefined alias", "YAML aliases (*name) are not allowed here"),
    ("found unexpected end of stream", "a quote or bracket is not closed"),
)
#: Codes sellers write for a language that are not its code (country codes, 3 letters).
LANG_MISTAKES = {
    "eng": "en",
    "rus": "ru",
    "chi": "zh",
    "zho": "zh",
    "chn": "zh",
    "cn": "zh",
    "ch": "zh",
    "ua": "uk",
    "ukr": "uk",
    "kz": "kk",
    "kaz": "kk",
    "jp": "ja",
    "kr": "ko",
}
#: The largest seller.yaml, faq.yaml or templates.yaml read: far above any FAQ written
#: by hand (the demo's faq.yaml is 40 KB), far below what would stall a reload.
MAX_YAML_BYTES = 2_000_000
#: The largest products.csv read (about 100,000 products with descriptions).
MAX_CSV_BYTES = 100_000_000
DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd])\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(value: str) -> timedelta | None:
    """``90s``, ``15m``, ``24h``, ``2d`` -> timedelta; None when the text is no duration."""
    match = DURATION.match(value)
    if not match:
        return None
    return timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2)])


class _AliasFound(Exception):
    def __init__(self, mark: Any) -> None:
        super().__init__("alias")
        self.mark = mark


class _NoAliasComposer(Composer):
    """Composes the document in one pass, stopping at the first alias (``*name``):
    a few kilobytes of anchors can stand for millions of questions, and a hand-written
    FAQ never needs them."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.parser.check_event(AliasEvent):
            raise _AliasFound(self.parser.peek_event().start_mark)
        return super().compose_node(parent, index)


class Checker:
    """Walks a YAML node tree, turning nodes into values and recording problems."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.problems: list[Problem] = []

    def problem(self, node: Node | None, key: str | None, message: str) -> None:
        line = node.start_mark.line + 1 if node is not None else None
        self.problems.append(Problem(self.path, line, key, message))

    def compose(self, text: str) -> Node | None:
        # YAML 1.2 (ruamel): "[Сколько идет доставка?, Когда придет заказ?]" is two
        # questions, as docs/content-format.md writes them (YAML 1.1 parsers choke on the "?"),
        # and "yes"/"no" stay text instead of silently becoming booleans.
        try:
            yaml = YAML(typ="safe", pure=True)
            yaml.Composer = _NoAliasComposer
            node: Node | None = yaml.compose(text)
            return node
        except _AliasFound as found:
            mark = found.mark
            self.problems.append(
                Problem(
                    self.path,
                    mark.line + 1 if mark is not None else None,
                    None,
                    "YAML aliases (*name) are not allowed here: write the text out",
                )
            )
            return None
        except MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = mark.line + 1 if mark is not None else None
            what = exc.problem or exc.context or "invalid YAML"
            advice = next((tip for sign, tip in YAML_ADVICE if sign in what), None)
            message = f"invalid YAML: {what}" + (f" ({advice})" if advice else "")
            self.problems.append(Problem(self.path, line, None, message))
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
                hint = closest(name, allowed)
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
        if value in LANG_MISTAKES:
            self.problem(
                node,
                key,
                f"{value!r} is not a language code: did you mean {LANG_MISTAKES[value]!r}? "
                "(two-letter ISO 639-1 codes: ru, en, zh ...)",
            )
            return None
        if len(value) == 3:
            self.problem(
                node, key, f"{value!r}: use the two-letter ISO 639-1 code (ru, en, zh ...)"
            )
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


def closest(name: str, options: set[str]) -> str | None:
    from rapidfuzz import process
    from rapidfuzz.distance import OSA

    # OSA counts a swap of two letters as one edit: "nmae" is one typo away from "name".
    found = process.extractOne(name, sorted(options), scorer=OSA.normalized_similarity)
    if found and found[1] >= 0.6:
        return str(found[0])
    return None


def too_big(path: Path, limit: int) -> Problem | None:
    """A problem when the file at ``path`` is over ``limit`` bytes."""
    try:
        size = path.stat().st_size
    except OSError:
        return None  # reading it says why
    if size <= limit:
        return None
    return Problem(
        path, None, None, f"{size:,} bytes is more than the {limit:,} a file may have here"
    )


def read_text(path: Path, checker: Checker, limit: int | None = None) -> str | None:
    """The file's UTF-8 text, or None with the problem recorded (unreadable, too big,
    not UTF-8); ``limit``: bytes at most (default :data:`MAX_YAML_BYTES`)."""
    if (big := too_big(path, MAX_YAML_BYTES if limit is None else limit)) is not None:
        checker.problems.append(big)
        return None
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


def load_yaml(path: Path, checker: Checker) -> Node | None:
    text = read_text(path, checker)
    if text is None:
        return None
    node = checker.compose(text)
    if node is None and not checker.problems:
        checker.problem(None, None, "the file is empty")
    return node
