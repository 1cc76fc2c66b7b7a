"""faq.yaml (the entries) and templates.yaml (staff's quick replies) (docs/content-format.md)."""

from __future__ import annotations

import hashlib
from collections.abc import Container
from pathlib import Path
from urllib.parse import urlsplit

from ruamel.yaml.nodes import MappingNode, Node, ScalarNode

from sellerdesk.faq.content.checker import (
    ENTRY_ID,
    Checker,
    load_yaml,
)
from sellerdesk.faq.content.errors import Problem
from sellerdesk.faq.content.model import (
    DOCUMENT,
    PHOTO,
    Entry,
    LinkButton,
    MediaFile,
    Template,
)

ENTRY_REQUIRED = ("id", "questions", "answer")
ENTRY_OPTIONAL = ("keywords", "handoff", "media", "buttons")
BUTTON_KEYS = ("text", "url")


#: Entries of one faq.yaml at most, and question variants of one entry per language.
MAX_ENTRIES = 5_000
MAX_QUESTIONS = 200


def _question_list(c: Checker, node: Node, key: str) -> tuple[str, ...] | None:
    items = c.sequence(node, key)
    if items is None:
        return None
    if not items:
        c.problem(node, key, "list at least one question")
        return None
    if len(items) > MAX_QUESTIONS:
        c.problem(node, key, f"{len(items)} questions; at most {MAX_QUESTIONS} per language")
        return None
    values = [c.string(n, key) for n in items]
    return tuple(v.strip() for v in values if v)


# ------------------------------------------------------------- media and link buttons

#: What each file name ending goes out as.
MEDIA_KINDS = {".png": PHOTO, ".jpg": PHOTO, ".jpeg": PHOTO, ".pdf": DOCUMENT}
#: Largest file a bot may upload as a photo (Telegram's limit), and the largest PDF
#: sent with an answer (Telegram takes 50 MB; a buyer on mobile data should not wait).
MAX_PHOTO_BYTES = 10 * 2**20
MAX_DOCUMENT_BYTES = 20 * 2**20
#: Telegram's other limits on a photo: width + height, and the longer side over the
#: shorter one.
MAX_PHOTO_SIDES = 10_000
MAX_PHOTO_RATIO = 20
#: One album at most (Telegram's limit), and link buttons under one answer.
MAX_MEDIA = 10
MAX_BUTTONS = 8
#: A button's label, in characters (Telegram cuts longer ones on small screens).
MAX_BUTTON_CHARS = 64
MAX_URL_CHARS = 2048

_PNG = b"\x89PNG\r\n\x1a\n"
_JPEG = b"\xff\xd8\xff"
_PDF = b"%PDF-"


def image_size(data: bytes) -> tuple[int, int] | None:
    """Width and height of a PNG or JPEG image, or None when ``data`` is neither (or is
    cut short)."""
    if data.startswith(_PNG) and len(data) >= 24 and data[12:16] == b"IHDR":
        return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    if not data.startswith(_JPEG):
        return None
    at = 2
    while at + 9 <= len(data):
        if data[at] != 0xFF:
            return None
        marker = data[at + 1]
        if marker == 0xFF:  # fill byte
            at += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:  # no length
            at += 2
            continue
        length = int.from_bytes(data[at + 2 : at + 4], "big")
        # Start of frame (baseline, progressive, ...): not DHT, JPG or DAC.
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height = int.from_bytes(data[at + 5 : at + 7], "big")
            width = int.from_bytes(data[at + 7 : at + 9], "big")
            return width, height
        if length < 2:
            return None
        at += 2 + length
    return None


def check_media(folder: Path, name: str) -> MediaFile | str:
    """The file ``name`` of the seller's ``folder`` as it will be sent, or what is wrong
    with it (missing, outside the folder, too big, not the type its name says)."""
    kind = MEDIA_KINDS.get(Path(name).suffix.lower())
    if kind is None:
        return f"{name!r}: only .png, .jpg and .pdf files can go with an answer"
    if Path(name).is_absolute() or "\\" in name:
        return f"{name!r}: give the file's path inside the seller's folder, with '/'"
    try:
        base = folder.resolve()
        path = (folder / name).resolve()
    except (OSError, RuntimeError) as exc:
        return f"{name!r}: cannot be read ({exc})"
    if not path.is_relative_to(base):
        return f"{name!r} is outside the seller's folder"
    if not path.is_file():
        return f"{name!r}: no such file in {folder}"
    size = path.stat().st_size
    limit = MAX_PHOTO_BYTES if kind == PHOTO else MAX_DOCUMENT_BYTES
    if size > limit:
        return (
            f"{name!r} is {size / 2**20:.1f} MB; a {'picture' if kind == PHOTO else 'PDF'} "
            f"sent with an answer may have {limit // 2**20} MB at most"
        )
    if size == 0:
        return f"{name!r} is empty"
    try:
        data = path.read_bytes()
    except OSError as exc:
        return f"{name!r}: cannot be read ({exc.strerror})"
    if kind == DOCUMENT and not data.startswith(_PDF):
        return f"{name!r} is not a PDF file"
    if kind == PHOTO:
        found = image_size(data)
        if found is None:
            return f"{name!r} is not a PNG or JPEG picture (save it again as one)"
        width, height = found
        if width < 1 or height < 1:
            return f"{name!r}: the picture has no size"
        if width + height > MAX_PHOTO_SIDES or max(width, height) > MAX_PHOTO_RATIO * min(
            width, height
        ):
            return (
                f"{name!r} is {width}x{height}: Telegram takes pictures up to "
                f"{MAX_PHOTO_SIDES} pixels wide and high together, and at most "
                f"{MAX_PHOTO_RATIO} times longer than wide; make it smaller or a PDF"
            )
    return MediaFile(
        name=name, path=path, kind=kind, size=size, digest=hashlib.sha256(data).hexdigest()
    )


def _media(c: Checker, node: Node, label: str, folder: Path) -> tuple[MediaFile, ...]:
    items = c.sequence(node, label)
    if items is None:
        return ()
    if not items:
        c.problem(node, label, "list at least one file, or leave the key out")
        return ()
    if len(items) > MAX_MEDIA:
        c.problem(node, label, f"{len(items)} files; at most {MAX_MEDIA} go with one answer")
        return ()
    found: list[MediaFile] = []
    before = len(c.problems)
    for item in items:
        name = c.string(item, label)
        if name is None:
            continue
        checked = check_media(folder, name.strip())
        if isinstance(checked, str):
            c.problem(item, label, checked)
        elif any(f.path == checked.path for f in found):
            c.problem(item, label, f"{name!r} is listed twice")
        else:
            found.append(checked)
    if len({f.kind for f in found}) > 1:
        c.problem(
            node,
            label,
            "pictures and PDFs cannot go in one answer (Telegram does not mix them in an "
            "album): put the PDF in an entry of its own, or give it as a link button",
        )
        return ()
    return tuple(found) if len(c.problems) == before else ()


def _url(c: Checker, node: Node, key: str) -> str | None:
    url = c.string(node, key)
    if url is None:
        return None
    url = url.strip()
    parts = urlsplit(url)
    if (
        parts.scheme not in ("http", "https")
        or not parts.netloc
        or any(ch.isspace() for ch in url)
        or len(url) > MAX_URL_CHARS
    ):
        c.problem(node, key, f"{url[:80]!r} is not a web link: write it in full, https://...")
        return None
    return url


def _label(c: Checker, node: Node, key: str) -> str | None:
    value = c.string(node, key)
    if value is not None and len(value.strip()) > MAX_BUTTON_CHARS:
        c.problem(node, key, f"{len(value.strip())} characters; a button takes {MAX_BUTTON_CHARS}")
        return None
    return value.strip() if value is not None else None


def _buttons(c: Checker, node: Node, label: str) -> tuple[LinkButton, ...]:
    items = c.sequence(node, label)
    if items is None:
        return ()
    if len(items) > MAX_BUTTONS:
        c.problem(node, label, f"{len(items)} buttons; at most {MAX_BUTTONS} under one answer")
        return ()
    found: list[LinkButton] = []
    before = len(c.problems)
    for index, item in enumerate(items):
        key = f"{label}[{index + 1}]"
        fields = c.mapping(item, key, BUTTON_KEYS, ())
        if fields is None or len(fields) < 2:
            continue
        text = c.per_language(fields["text"][1], f"{key}.text", lambda n, k: _label(c, n, k))
        url = _url(c, fields["url"][1], f"{key}.url")
        if text and url:
            found.append(LinkButton(text=text, url=url))
    # One bad button or file: none of them, as a half-right answer would mislead.
    return tuple(found) if len(c.problems) == before else ()


def item_label(kind: str, node: Node, index: int, seen: Container[str]) -> str:
    """How a message names a list item: by its id when it has a valid one not used
    before ("entry delivery-time"), else by its place counted from 1 ("entry #4")."""
    if isinstance(node, MappingNode):
        for key, value in node.value:
            if (
                isinstance(key, ScalarNode)
                and key.value == "id"
                and isinstance(value, ScalarNode)
                and ENTRY_ID.match(str(value.value))
                and value.value not in seen
            ):
                return f"{kind} {value.value}"
    return f"{kind} #{index + 1}"


def load_faq_file(path: Path) -> tuple[list[Entry], list[Problem]]:
    """Read faq.yaml; every entry error is collected, the good entries are returned."""
    c = Checker(path)
    root = load_yaml(path, c)
    if root is None:
        return [], c.problems
    keys = c.mapping(root, "", ("entries",), ())
    if keys is None or "entries" not in keys:
        return [], c.problems
    items = c.sequence(keys["entries"][1], "entries")
    if items is not None and len(items) > MAX_ENTRIES:
        c.problem(keys["entries"][1], "entries", f"{len(items)} entries; at most {MAX_ENTRIES}")
        return [], c.problems
    entries: list[Entry] = []
    seen: dict[str, int] = {}
    for index, node in enumerate(items or []):
        label = item_label("entry", node, index, seen)
        fields = c.mapping(node, label, ENTRY_REQUIRED, ENTRY_OPTIONAL)
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
        media: tuple[MediaFile, ...] = ()
        if "media" in fields:
            media = _media(c, fields["media"][1], f"{label}.media", path.parent)
        buttons: tuple[LinkButton, ...] = ()
        if "buttons" in fields:
            buttons = _buttons(c, fields["buttons"][1], f"{label}.buttons")
        if entry_id and questions and answer:
            entries.append(
                Entry(
                    id=entry_id,
                    questions=questions,
                    answer=answer,
                    keywords=keywords,
                    handoff=handoff,
                    line=node.start_mark.line + 1,
                    media=media,
                    buttons=buttons,
                )
            )
    return entries, c.problems


# ------------------------------------------------------------------------ templates.yaml


TEMPLATE_KEYS = ("id", "text")


def load_templates_file(path: Path) -> tuple[list[Template], list[Problem]]:
    """Read templates.yaml (staff quick replies)."""
    c = Checker(path)
    root = load_yaml(path, c)
    if root is None:
        return [], c.problems
    keys = c.mapping(root, "", ("templates",), ())
    if keys is None or "templates" not in keys:
        return [], c.problems
    templates: list[Template] = []
    seen: set[str] = set()
    for index, node in enumerate(c.sequence(keys["templates"][1], "templates") or []):
        label = item_label("template", node, index, seen)
        fields = c.mapping(node, label, TEMPLATE_KEYS, ())
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
