"""HTTP wire format of the Bot API: request decoding and response envelopes.

Telegram accepts a method's parameters in four ways: a query string, a JSON body, an
``application/x-www-form-urlencoded`` body and a ``multipart/form-data`` body (the only way
to upload files).  In the form encodings every value is a string, and structured
parameters (``reply_markup``, ``media``, ``reply_parameters`` ...) are JSON text.  This
module turns all four into one ``dict`` with the values typed as the Bot API documents
them, so that the double's methods and the tests' assertions never see the encoding.

Uploaded files become :class:`UploadedFile` values: under their own parameter name for
``sendPhoto(photo=<file>)``, and under the ``attach://<name>`` name for files that an
``InputMedia`` refers to.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

JSON = dict[str, Any]

# Parameters whose value is a JSON-serialized object or array in the form encodings.
JSON_FIELDS = frozenset(
    {
        "allowed_updates",
        "caption_entities",
        "commands",
        "entities",
        "link_preview_options",
        "media",
        "message_ids",
        "permissions",
        "reaction",
        "reply_markup",
        "reply_parameters",
        "results",
        "scope",
        "text_entities",
    }
)

# Parameters documented as Integer (chat ids also accept "@username", handled separately).
INT_FIELDS = frozenset(
    {
        "cache_time",
        "duration",
        "from_chat_id",
        "height",
        "icon_color",
        "limit",
        "max_connections",
        "message_id",
        "message_thread_id",
        "offset",
        "reply_to_message_id",
        "timeout",
        "until_date",
        "user_id",
        "width",
    }
)
CHAT_ID_FIELDS = frozenset({"chat_id", "from_chat_id"})
FLOAT_FIELDS = frozenset({"latitude", "longitude", "horizontal_accuracy"})
BOOL_FIELDS = frozenset(
    {
        "allow_paid_broadcast",
        "allow_sending_without_reply",
        "disable_content_type_detection",
        "disable_notification",
        "disable_web_page_preview",
        "drop_pending_updates",
        "has_spoiler",
        "is_big",
        "protect_content",
        "remove_caption",
        "show_alert",
        "show_caption_above_media",
        "supports_streaming",
    }
)

_INT_RE = re.compile(r"^-?\d+$")


@dataclass(frozen=True)
class UploadedFile:
    """A file part of a multipart request: what the bot uploaded, byte for byte."""

    field: str
    filename: str | None
    content_type: str | None
    data: bytes

    def __repr__(self) -> str:
        return (
            f"UploadedFile(field={self.field!r}, filename={self.filename!r}, "
            f"content_type={self.content_type!r}, size={len(self.data)})"
        )


class WireError(Exception):
    """The request could not be decoded; Telegram answers these with 400."""


def decode_request(
    content_type: str | None, body: bytes, query: str
) -> tuple[JSON, dict[str, UploadedFile]]:
    """Decode one request into typed parameters and the uploaded files.

    Returns ``(params, files)``.  ``files`` maps every multipart file part by its field
    name; a part that is not an ``attach://`` target also appears in ``params`` under its
    field name (that is how ``sendPhoto`` receives an upload).
    """
    raw: dict[str, Any] = dict(parse_qsl(query, keep_blank_values=True))
    files: dict[str, UploadedFile] = {}
    mime, options = _split_header(content_type or "")
    if body:
        if mime == "application/json":
            try:
                decoded = json.loads(body.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise WireError("can't parse JSON object") from exc
            if not isinstance(decoded, dict):
                raise WireError("can't parse JSON object")
            raw.update(decoded)
        elif mime == "application/x-www-form-urlencoded":
            raw.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        elif mime == "multipart/form-data":
            boundary = options.get("boundary")
            if not boundary:
                raise WireError("multipart body without boundary")
            fields, files = parse_multipart(body, boundary)
            raw.update(fields)
            raw.update(files)
        else:
            raise WireError(f"unsupported Content-Type {mime!r}")
    return normalize(raw), files


def normalize(raw: dict[str, Any]) -> JSON:
    """Give form-encoded values the types the Bot API documents for them.

    JSON bodies already carry numbers and objects, but Telegram also accepts JSON text
    there (``"reply_markup": "{...}"``), so both paths go through the same coercion.
    Values that do not fit their type are left as sent; the methods report them.
    """
    out: JSON = {}
    for key, value in raw.items():
        out[key] = _coerce(key, value)
    return out


def _coerce(key: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    if key in JSON_FIELDS:
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    if key in CHAT_ID_FIELDS or key in INT_FIELDS:
        return int(value) if _INT_RE.match(value.strip()) else value
    if key in FLOAT_FIELDS:
        try:
            return float(value)
        except ValueError:
            return value
    if key in BOOL_FIELDS:
        lowered = value.strip().lower()
        if lowered in ("true", "1"):
            return True
        if lowered in ("false", "0", ""):
            return False
    return value


def _split_header(value: str) -> tuple[str, dict[str, str]]:
    """Split ``type/sub; a=b; c="d"`` into the lower-cased type and its options."""
    parts = _split_params(value)
    mime = parts[0].strip().lower() if parts else ""
    options: dict[str, str] = {}
    for part in parts[1:]:
        name, sep, val = part.partition("=")
        if not sep:
            continue
        val = val.strip()
        if len(val) >= 2 and val[0] == val[-1] == '"':
            val = val[1:-1].replace('\\"', '"')
        options[name.strip().lower()] = val
    return mime, options


def _split_params(value: str) -> list[str]:
    """Split a header value on ``;`` outside double quotes."""
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    for char in value:
        if char == '"':
            quoted = not quoted
        if char == ";" and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def parse_multipart(body: bytes, boundary: str) -> tuple[dict[str, str], dict[str, UploadedFile]]:
    """Parse a ``multipart/form-data`` body into text fields and file parts.

    A part with a ``filename`` in its Content-Disposition is a file, any other part is
    a UTF-8 text field.
    """
    delimiter = b"--" + boundary.encode("latin-1")
    fields: dict[str, str] = {}
    files: dict[str, UploadedFile] = {}
    chunks = body.split(delimiter)
    # chunks[0] is the preamble, the last one starts with "--" (the close delimiter).
    for chunk in chunks[1:]:
        if chunk.startswith(b"--"):
            break
        if chunk.startswith(b"\r\n"):
            chunk = chunk[2:]
        if chunk.endswith(b"\r\n"):
            chunk = chunk[:-2]
        head, sep, content = chunk.partition(b"\r\n\r\n")
        if not sep:
            raise WireError("malformed multipart part")
        headers: dict[str, str] = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            name, colon, val = line.partition(":")
            if colon:
                headers[name.strip().lower()] = val.strip()
        _, disposition = _split_header(headers.get("content-disposition", ""))
        field = disposition.get("name")
        if field is None:
            raise WireError("multipart part without a name")
        if "filename" in disposition:
            files[field] = UploadedFile(
                field=field,
                filename=disposition["filename"] or None,
                content_type=headers.get("content-type"),
                data=content,
            )
        else:
            fields[field] = content.decode("utf-8", "replace")
    return fields, files


def ok_envelope(result: Any) -> JSON:
    """The body of a successful Bot API response."""
    return {"ok": True, "result": result}


def error_envelope(
    error_code: int,
    description: str,
    retry_after: int | None = None,
    migrate_to_chat_id: int | None = None,
) -> JSON:
    """The body of a failed Bot API response, with ``parameters`` only when present."""
    body: JSON = {"ok": False, "error_code": error_code, "description": description}
    parameters: JSON = {}
    if retry_after is not None:
        parameters["retry_after"] = retry_after
    if migrate_to_chat_id is not None:
        parameters["migrate_to_chat_id"] = migrate_to_chat_id
    if parameters:
        body["parameters"] = parameters
    return body


def dump_json(body: JSON) -> bytes:
    """Serialize a response body compactly, as Telegram does, keeping non-ASCII text."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
