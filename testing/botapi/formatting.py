"""Message formatting as Telegram applies it: parse modes, entities, UTF-16 offsets.

A bot that sends ``parse_mode="HTML"`` or ``"MarkdownV2"`` text gets back a message whose
``text`` has the markup removed and whose ``entities`` describe it, with offsets and
lengths counted in UTF-16 code units.  Malformed markup is refused with
``400 Bad Request: can't parse entities: ...``; that refusal is the classic bug of a bot
that puts user text into formatted messages without escaping it, so the double reproduces
it.  The error wording follows Telegram's messages closely but not byte for byte.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

JSON = dict[str, Any]


class FormattingError(ValueError):
    """Markup Telegram would refuse; the text follows ``can't parse entities:``."""


def utf16_len(text: str) -> int:
    """Length of ``text`` in UTF-16 code units, the unit of Telegram entity offsets."""
    return len(text.encode("utf-16-le")) // 2


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


_COMMAND_RE = re.compile(
    r"(?:(?<=\s)|^)/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?(?![A-Za-z0-9_])"
)


def command_entities(text: str) -> list[JSON]:
    """``bot_command`` entities for every ``/command`` or ``/command@bot`` in ``text``.

    Telegram marks commands at the start of the text or after whitespace; ``/start
    payload`` therefore carries one entity of length 6 at offset 0.
    """
    entities: list[JSON] = []
    for match in _COMMAND_RE.finditer(text):
        entities.append(
            {
                "type": "bot_command",
                "offset": utf16_len(text[: match.start()]),
                "length": utf16_len(match.group(0)),
            }
        )
    return entities


def parse_formatted(text: str, parse_mode: str | None) -> tuple[str, list[JSON]]:
    """Apply ``parse_mode`` to ``text`` and return the plain text and its entities.

    ``parse_mode`` is matched case-insensitively as Telegram does.  ``None`` or an empty
    mode returns the text unchanged with no entities.
    """
    if not parse_mode:
        return text, []
    mode = parse_mode.lower()
    if mode == "html":
        return _HtmlParser(text).parse()
    if mode == "markdownv2":
        return _MarkdownParser(text, v2=True).parse()
    if mode == "markdown":
        return _MarkdownParser(text, v2=False).parse()
    raise ValueError(f"unsupported parse_mode {parse_mode!r}")


@dataclass
class _Builder:
    """Accumulates plain text and tracks its UTF-16 length."""

    parts: list[str] = field(default_factory=list)
    length16: int = 0
    entities: list[JSON] = field(default_factory=list)

    def add(self, chunk: str) -> None:
        self.parts.append(chunk)
        self.length16 += utf16_len(chunk)

    def entity(self, kind: str, start16: int, **extra: Any) -> None:
        length = self.length16 - start16
        if length > 0:  # Telegram drops empty entities
            self.entities.append({"type": kind, "offset": start16, "length": length, **extra})

    def result(self) -> tuple[str, list[JSON]]:
        ordered = sorted(self.entities, key=lambda e: (e["offset"], -e["length"]))
        return "".join(self.parts), ordered


_HTML_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_START_TAG_RE = re.compile(
    r"<([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[a-zA-Z-]+(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s>]+))?)*)\s*>"
)
_ATTR_RE = re.compile(r"([a-zA-Z-]+)(?:\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s>]+))?")
_END_TAG_RE = re.compile(r"</([a-zA-Z][a-zA-Z0-9-]*)\s*>")
_ENTITY_RE = re.compile(r"&(#[0-9]+|#x[0-9a-fA-F]+|[a-zA-Z]+);")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


class _HtmlParser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.out = _Builder()
        self.stack: list[tuple[str, str, int, dict[str, str]]] = []

    def parse(self) -> tuple[str, list[JSON]]:
        text, i = self.text, 0
        while i < len(text):
            char = text[i]
            if char == "<":
                i = self._tag(i)
            elif char == "&":
                match = _ENTITY_RE.match(text, i)
                if match is None:
                    self.out.add("&")
                    i += 1
                    continue
                name = match.group(1)
                if name.startswith("#x"):
                    self.out.add(chr(int(name[2:], 16)))
                elif name.startswith("#"):
                    self.out.add(chr(int(name[1:])))
                elif name in _NAMED:
                    self.out.add(_NAMED[name])
                else:
                    self.out.add(match.group(0))
                i = match.end()
            else:
                j = i
                while j < len(text) and text[j] not in "<&":
                    j += 1
                self.out.add(text[i:j])
                i = j
        if self.stack:
            raise FormattingError(
                f'Can\'t find end tag corresponding to start tag "{self.stack[-1][0]}"'
            )
        return self.out.result()

    def _tag(self, i: int) -> int:
        text = self.text
        offset = _byte_offset(text, i)
        end = _END_TAG_RE.match(text, i)
        if end is not None:
            name = end.group(1).lower()
            if not self.stack:
                raise FormattingError(f'Unexpected end tag "{name}" at byte offset {offset}')
            tag, kind, start16, attrs = self.stack.pop()
            if tag != name:
                raise FormattingError(
                    f'Unmatched end tag at byte offset {offset}, expected "</{tag}>", '
                    f'found "</{name}>"'
                )
            extra: dict[str, Any] = {}
            if kind == "text_link":
                extra["url"] = attrs.get("href", "")
            elif kind == "custom_emoji":
                extra["custom_emoji_id"] = attrs.get("emoji-id", "")
            elif kind == "pre" and "language" in attrs:
                extra["language"] = attrs["language"]
            if kind == "blockquote" and "expandable" in attrs:
                kind = "expandable_blockquote"
            if kind != "pre_code":  # <pre><code class="language-x"> is one pre entity
                self.out.entity(kind, start16, **extra)
            return end.end()
        start = _START_TAG_RE.match(text, i)
        if start is None:
            token = re.match(r"</?([^\s>]*)", text[i:])
            name = token.group(1) if token else ""
            raise FormattingError(f'Unsupported start tag "{name}" at byte offset {offset}')
        name = start.group(1).lower()
        if name not in _HTML_TAGS:
            raise FormattingError(f'Unsupported start tag "{name}" at byte offset {offset}')
        attrs = {
            key.lower(): (value or "").strip("\"'")
            for key, value in _ATTR_RE.findall(start.group(2) or "")
        }
        if name == "span" and attrs.get("class") != "tg-spoiler":
            raise FormattingError(
                f'Tag "span" must have class "tg-spoiler" at byte offset {offset}'
            )
        kind = _HTML_TAGS[name]
        if name == "code" and self.stack and self.stack[-1][0] == "pre":
            language = attrs.get("class", "")
            if language.startswith("language-"):
                self.stack[-1][3]["language"] = language[len("language-") :]
                kind = "pre_code"
        self.stack.append((name, kind, self.out.length16, attrs))
        return start.end()


_MDV2_RESERVED = set("_*[]()~`>#+-=|{}.!\\")
_LEGACY_LINK_RE = re.compile(r"\[[^\]]*\]\(")
_MD_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "code": "Code",
    "pre": "Pre",
    "text_link": "TextUrl",
}


class _MarkdownParser:
    """MarkdownV2 (strict escaping) and legacy Markdown (no nesting, lenient)."""

    def __init__(self, text: str, *, v2: bool) -> None:
        self.text = text
        self.v2 = v2
        self.out = _Builder()
        # (kind, utf16 start, byte offset of the marker, extra)
        self.stack: list[tuple[str, int, int, dict[str, Any]]] = []

    def _toggle(self, kind: str, i: int, **extra: Any) -> None:
        for pos in range(len(self.stack) - 1, -1, -1):
            if self.stack[pos][0] == kind:
                _, start16, _, saved = self.stack.pop(pos)
                self.out.entity(kind, start16, **saved)
                return
        if not self.v2 and self.stack:
            # Legacy Markdown has no nesting: a marker inside an entity is plain text.
            self.out.add(self.text[i])
            return
        self.stack.append((kind, self.out.length16, _byte_offset(self.text, i), extra))

    def _in_code(self) -> bool:
        return bool(self.stack) and self.stack[-1][0] in ("code", "pre")

    def _reserved(self, char: str) -> FormattingError:
        return FormattingError(
            f"Character '{char}' is reserved and must be escaped with the preceding '\\'"
        )

    def parse(self) -> tuple[str, list[JSON]]:
        text, i, line_start = self.text, 0, True
        while i < len(text):
            char = text[i]
            at_line_start, line_start = line_start, char == "\n"
            if self.v2 and char == "\\":
                if i + 1 >= len(text):
                    raise self._reserved("\\")
                self.out.add(text[i + 1])
                i += 2
                continue
            if self._in_code():
                kind = self.stack[-1][0]
                if kind == "pre" and text.startswith("```", i):
                    self._toggle("pre", i)
                    i += 3
                elif kind == "code" and char == "`":
                    self._toggle("code", i)
                    i += 1
                else:
                    self.out.add(char)
                    i += 1
                continue
            if text.startswith("```", i):
                newline = text.find("\n", i + 3)
                language = text[i + 3 : newline].strip() if newline != -1 else ""
                extra = {"language": language} if language and " " not in language else {}
                self._toggle("pre", i, **extra)
                i = newline + 1 if extra else i + 3
            elif char == "`":
                self._toggle("code", i)
                i += 1
            elif char == "*":
                self._toggle("bold", i)
                i += 1
            elif self.v2 and text.startswith("__", i):
                self._toggle("underline", i)
                i += 2
            elif char == "_":
                self._toggle("italic", i)
                i += 1
            elif self.v2 and char == "~":
                self._toggle("strikethrough", i)
                i += 1
            elif self.v2 and text.startswith("||", i):
                self._toggle("spoiler", i)
                i += 2
            elif char == "[" and (self.v2 or _LEGACY_LINK_RE.match(text, i)):
                self.stack.append(("text_link", self.out.length16, _byte_offset(text, i), {}))
                i += 1
            elif char == "]" and self.stack and self.stack[-1][0] == "text_link":
                i = self._link_url(i)
            elif self.v2 and char == ">" and at_line_start:
                end = text.find("\n", i)
                end = len(text) if end == -1 else end
                start16 = self.out.length16
                inner, inner_entities = _MarkdownParser(text[i + 1 : end], v2=True).parse()
                for entity in inner_entities:
                    self.out.entities.append({**entity, "offset": entity["offset"] + start16})
                self.out.add(inner)
                self.out.entity("blockquote", start16)
                i = end
            elif self.v2 and char in _MDV2_RESERVED:
                raise self._reserved(char)
            else:
                self.out.add(char)
                i += 1
        if self.stack:
            kind, _, offset, _ = self.stack[-1]
            if self.v2:
                raise FormattingError(
                    f"Can't find end of {_MD_NAMES[kind]} entity at byte offset {offset}"
                )
            raise FormattingError(f"Can't find end of the entity starting at byte offset {offset}")
        return self.out.result()

    def _link_url(self, i: int) -> int:
        text = self.text
        if not text.startswith("(", i + 1):
            raise self._reserved("]")
        j, url = i + 2, []
        while j < len(text) and text[j] != ")":
            if self.v2 and text[j] == "\\" and j + 1 < len(text):
                j += 1
            url.append(text[j])
            j += 1
        if j >= len(text):
            raise FormattingError(f"Can't find end of a URL at byte offset {_byte_offset(text, i)}")
        _, start16, _, _ = self.stack.pop()
        self.out.entity("text_link", start16, url="".join(url))
        return j + 1
