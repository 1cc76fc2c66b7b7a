"""Changing a seller's faq.yaml from the desk: a question added to an entry, or a new
entry, written so that the rest of the file stays as its author wrote it.

The file is read and written in ruamel.yaml's round-trip mode, which keeps comments,
key order, quoting and flow or block style; only the changed lines differ. The new text
is written to a temporary file beside it, read back with the loader
(:func:`faq.content.faq_file.load_faq_file`), and only then moved over faq.yaml in one
``os.replace``: a reader sees the old file or the new one, never half of one. If the
file changed on disk since it was read (an admin editing it by hand), nothing is
written: :class:`EditRefused` says so and the hand edit stands.

For a seller whose faq.yaml is still the file its loaded entries came from (same
SHA-256), :func:`teach_question` and :func:`teach_entry` change only the entry's own
lines (or append the new entry): that entry alone is read, changed, and checked by the
loader, the rest of the file is not parsed again, and the seller with the change comes
back to be served without reloading the content (a 2,000-entry faq.yaml takes seconds
to read in full). Whatever that path cannot do (a file changed since, a layout it does
not know) is done by the whole-file edit above, and the content is reloaded.
"""

from __future__ import annotations

import difflib
import hashlib
import io
import os
import re
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from sellerdesk.faq.content.faq_file import load_faq_file
from sellerdesk.faq.content.model import Entry, Seller

#: Lines of a diff shown at most (the admin chat's message has room for about this).
DIFF_LINES = 40


class EditRefused(Exception):
    """The change was not made; the message says why (for staff and admins)."""


@dataclass(frozen=True)
class Edit:
    """A change written to faq.yaml: the entry it touched and the diff."""

    entry_id: str
    diff: str


def _yaml() -> YAML:
    yaml = YAML()  # round-trip
    yaml.preserve_quotes = True
    yaml.width = 4096  # never re-wrap long answers
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def _entries(data: Any) -> CommentedSeq:
    entries = data.get("entries") if isinstance(data, CommentedMap) else None
    if not isinstance(entries, CommentedSeq):
        raise EditRefused("faq.yaml has no entries list")
    return entries


def _find(entries: CommentedSeq, entry_id: str) -> CommentedMap | None:
    return next(
        (e for e in entries if isinstance(e, CommentedMap) and str(e.get("id")) == entry_id),
        None,
    )


def add_question(path: Path, entry_id: str, lang: str, question: str) -> Edit:
    """Add ``question`` to entry ``entry_id``'s questions in ``lang``.

    Raises:
        EditRefused: the entry is gone, the question is there already, the file changed
            meanwhile or would not load.
    """
    question = " ".join(question.split())
    if not question:
        raise EditRefused("the question is empty")

    def change(data: Any) -> str:
        entry = _find(_entries(data), entry_id)
        if entry is None:
            raise EditRefused(f"the entry {entry_id} is no longer in faq.yaml")
        _add_to(entry, entry_id, lang, question)
        return entry_id

    return _edit(path, change)


def _add_to(entry: CommentedMap, entry_id: str, lang: str, question: str) -> None:
    questions = entry.get("questions")
    if not isinstance(questions, CommentedMap):
        raise EditRefused(f"the entry {entry_id} has no questions by language")
    listed = questions.get(lang)
    if listed is None:
        questions[lang] = CommentedSeq([question])
    elif isinstance(listed, list):
        if any(" ".join(str(q).split()).lower() == question.lower() for q in listed):
            raise EditRefused(f"the entry {entry_id} has this question already")
        listed.append(question)
    else:
        raise EditRefused(f"the entry {entry_id}'s {lang} questions are not a list")


def add_entry(path: Path, base_id: str, lang: str, question: str, answer: str) -> Edit:
    """Add a new entry (id ``base_id``, or ``base_id-2``... when taken) with one question
    and its answer in ``lang``.

    Raises:
        EditRefused: as :func:`add_question`.
    """
    question = " ".join(question.split())
    answer = answer.strip()
    if not question or not answer:
        raise EditRefused("a new entry needs the question and an answer")

    def change(data: Any) -> str:
        entries = _entries(data)
        for entry in entries:
            if isinstance(entry, CommentedMap) and _asks(_questions_of(entry), question):
                raise EditRefused(f"the entry {entry.get('id')} has this question already")
        taken = {str(e.get("id")) for e in entries if isinstance(e, CommentedMap)}
        entry = _new_entry(_free_id(base_id, taken), lang, question, answer)
        entries.append(entry)
        return str(entry["id"])

    return _edit(path, change)


def _questions_of(entry: CommentedMap) -> list[str]:
    questions = entry.get("questions")
    if isinstance(questions, CommentedMap):
        return [str(q) for listed in questions.values() if isinstance(listed, list) for q in listed]
    return [str(q) for q in questions] if isinstance(questions, list) else []


def _asks(questions: list[str], question: str) -> bool:
    """Whether ``question`` is one of ``questions``, spaces and case aside (a press
    repeated after a crash between the write and its record finds its own entry)."""
    wanted = " ".join(question.split()).lower()
    return any(" ".join(q.split()).lower() == wanted for q in questions)


def _free_id(base_id: str, taken: set[str]) -> str:
    entry_id = base_id
    n = 1
    while entry_id in taken:
        n += 1
        entry_id = f"{base_id}-{n}"
    return entry_id


def _new_entry(entry_id: str, lang: str, question: str, answer: str) -> CommentedMap:
    entry = CommentedMap()
    entry["id"] = entry_id
    entry["questions"] = CommentedMap({lang: CommentedSeq([question])})
    entry["answer"] = CommentedMap({lang: answer})
    return entry


def entry_id_for(text: str, number: int) -> str:
    """An id for an entry made from case ``number``'s question."""
    words = re.findall(r"[a-z0-9]+", text.lower())[:4]
    return "-".join(["taught", *words] if words else ["taught", f"case-{number}"])


def _edit(path: Path, change: Any) -> Edit:
    try:
        before = path.read_bytes()
    except OSError as error:
        raise EditRefused(f"cannot read {path.name}: {error.strerror}") from error
    yaml = _yaml()
    try:
        data = yaml.load(before.decode("utf-8-sig"))
    except Exception as error:  # ruamel raises its own error kinds
        raise EditRefused(f"{path.name} does not read as YAML now; fix it first") from error
    entry_id = change(data)
    out = io.StringIO()
    yaml.dump(data, out)
    # One kind of line end, the file's: comments keep a "\r" the dump does not add.
    after = out.getvalue().replace("\r\n", "\n")
    if b"\r\n" in before:
        after = after.replace("\n", "\r\n")
    _replace(path, before, after, check=True)
    old_lines = before.decode("utf-8-sig").splitlines()
    return Edit(entry_id, _diff(path.name, old_lines, after.splitlines(), 0))


#: Temporary files an edit writes beside faq.yaml, and how old one left by a process
#: that died mid-edit must be before the next edit deletes it.
TEMP_PATTERNS = (".faq.yaml.*.tmp", ".faq.entry.*.tmp")
STALE_TEMP_S = 600.0


def _sweep(folder: Path) -> None:
    """Delete temporary files a killed edit left in ``folder`` (an edit still running
    in another process is younger than :data:`STALE_TEMP_S`)."""
    now = time.time()
    for pattern in TEMP_PATTERNS:
        for left in folder.glob(pattern):
            try:
                if now - left.stat().st_mtime > STALE_TEMP_S:
                    left.unlink()
            except OSError:
                continue


def _replace(path: Path, before: bytes, after: str, *, check: bool) -> None:
    """Write ``after`` over ``path`` in one step, unless the file is no longer
    ``before``; ``check``: read the new text with the loader first."""
    _sweep(path.parent)
    fd, name = tempfile.mkstemp(prefix=".faq.yaml.", suffix=".tmp", dir=path.parent)
    temp = Path(name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(after)
            handle.flush()
            os.fsync(handle.fileno())
        if check:
            _, problems = load_faq_file(temp)
            if problems:
                raise EditRefused(f"the change would not load: {problems[0].message}")
        if path.read_bytes() != before:
            raise EditRefused(f"{path.name} was changed by hand meanwhile; nothing written")
        os.chmod(temp, path.stat().st_mode & 0o777)
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)


def _diff(name: str, old: list[str], new: list[str], offset: int) -> str:
    """A unified diff of ``old`` and ``new``, lines numbered from ``offset`` + 1."""
    lines = list(difflib.unified_diff(old, new, fromfile=name, tofile=name, n=1, lineterm=""))
    if offset:

        def shift(match: re.Match[str]) -> str:
            return f"{match.group(1)}{int(match.group(2)) + offset}"

        lines = [
            re.sub(r"([-+])(\d+)", shift, line) if line.startswith("@@") else line for line in lines
        ]
    if len(lines) > DIFF_LINES:
        lines = [*lines[:DIFF_LINES], "…"]
    return "\n".join(lines)


# ------------------------------------------------------------- edits of a loaded seller

#: How a list item starts: its indent, then "- ".
_ITEM = re.compile(r"^( *)- ")


@dataclass(frozen=True)
class Taught:
    """A change made for a seller: the edit, and the seller with it when the change was
    made at the entry's own lines (served as it is); None: reload the content."""

    edit: Edit
    seller: Seller | None


def teach_question(seller: Seller, entry_id: str, lang: str, question: str) -> Taught:
    """:func:`add_question` for ``seller``'s faq.yaml (see the module).

    Raises:
        EditRefused: as :func:`add_question`.
    """
    question = " ".join(question.split())
    if not question:
        raise EditRefused("the question is empty")
    path = _faq_path(seller)
    index = next((i for i, e in enumerate(seller.entries) if e.id == entry_id), None)
    same = _same_file(path, seller)
    if index is None or same is None:
        return Taught(add_question(path, entry_id, lang, question), None)
    before, lines = same
    start = seller.entries[index].line - 1
    end = seller.entries[index + 1].line - 1 if index + 1 < len(seller.entries) else len(lines)
    item = _ITEM.match(lines[start]) if 0 <= start < end <= len(lines) else None
    if item is None:
        return Taught(add_question(path, entry_id, lang, question), None)
    span = lines[start:end]
    data = _yaml().load("entries:\n" + "".join(span))
    entry = _find(_entries(data), entry_id)
    if entry is None:
        return Taught(add_question(path, entry_id, lang, question), None)
    _add_to(entry, entry_id, lang, question)  # refuses a question it has already
    new_span = _dumped_items(data, len(item.group(1)))
    # Every line of the entry stays but one (a list written [a, b] on one line grows).
    if new_span is None or len(set(span) - set(new_span)) > 1:
        return Taught(add_question(path, entry_id, lang, question), None)
    checked = _checked(path, new_span, entry_id)
    after = "".join([*lines[:start], *new_span, *lines[end:]])
    _replace(path, before, after, check=False)
    delta = len(new_span) - len(span)
    entries = (
        *seller.entries[:index],
        replace(checked, line=start + checked.line - 1),
        *(replace(e, line=e.line + delta) for e in seller.entries[index + 1 :]),
    )
    edit = Edit(entry_id, _diff(path.name, _bare(span), _bare(new_span), start))
    return Taught(edit, _served(seller, entries, after))


def teach_entry(seller: Seller, base_id: str, lang: str, question: str, answer: str) -> Taught:
    """:func:`add_entry` for ``seller``'s faq.yaml (see the module): the entry goes at
    the end of the file.

    Raises:
        EditRefused: as :func:`add_entry`.
    """
    question = " ".join(question.split())
    answer = answer.strip()
    if not question or not answer:
        raise EditRefused("a new entry needs the question and an answer")
    path = _faq_path(seller)
    same = _same_file(path, seller)
    last = seller.entries[-1] if seller.entries else None
    item = _ITEM.match(same[1][last.line - 1]) if same and last and last.line > 0 else None
    # Only comments may follow the last entry (a key or a document marker would end the
    # entries list before the end of the file).
    tail_ok = (
        same is not None
        and last is not None
        and all(not line.strip() or line.startswith((" ", "#")) for line in same[1][last.line :])
    )
    if same is None or item is None or not tail_ok:
        return Taught(add_entry(path, base_id, lang, question, answer), None)
    for known in seller.entries:
        if _asks(known.all_questions(), question):
            raise EditRefused(f"the entry {known.id} has this question already")
    before, lines = same
    entry_id = _free_id(base_id, {e.id for e in seller.entries})
    data = CommentedMap({"entries": CommentedSeq([_new_entry(entry_id, lang, question, answer)])})
    new_span = _dumped_items(data, len(item.group(1)))
    if new_span is None:
        return Taught(add_entry(path, base_id, lang, question, answer), None)
    checked = _checked(path, new_span, entry_id)
    head = "".join(lines)
    if head and not head.endswith("\n"):
        head += "\n"
    if head and head.strip() and not head.endswith("\n\n"):
        head += "\n"  # a blank line between entries, as most files have
    after = head + "".join(new_span)
    _replace(path, before, after, check=False)
    first = head.count("\n")
    entries = (*seller.entries, replace(checked, line=first + checked.line - 1))
    edit = Edit(entry_id, _diff(path.name, [], _bare(new_span), first))
    return Taught(edit, _served(seller, entries, after))


def _faq_path(seller: Seller) -> Path:
    if seller.path is None:
        raise EditRefused("the seller's folder is not known")
    return seller.path / "faq.yaml"


def _same_file(path: Path, seller: Seller) -> tuple[bytes, list[str]] | None:
    """The file's bytes and lines when it is still the one the seller's entries came
    from, in a layout the entry-level edit keeps (UTF-8 without BOM, "\n" line ends)."""
    try:
        before = path.read_bytes()
    except OSError as error:
        raise EditRefused(f"cannot read {path.name}: {error.strerror}") from error
    if not seller.faq_digest or hashlib.sha256(before).hexdigest() != seller.faq_digest:
        return None
    if before.startswith(b"\xef\xbb\xbf") or b"\r" in before:
        return None
    try:
        return before, before.decode("utf-8").splitlines(keepends=True)
    except UnicodeDecodeError:
        return None


def _dumped_items(data: Any, indent: int) -> list[str] | None:
    """The lines of ``data``'s entries as dumped, their items at ``indent``; None when
    the dump does not look as expected."""
    out = io.StringIO()
    _yaml().dump(data, out)
    text = out.getvalue()
    if not text.startswith("entries:\n"):
        return None
    body = text[len("entries:\n") :].splitlines(keepends=True)
    found = _ITEM.match(body[0]) if body else None
    if found is None:
        return None
    shift = indent - len(found.group(1))
    if shift < 0 and any(line.strip() and not line.startswith(" " * -shift) for line in body):
        return None
    if shift >= 0:
        return [(" " * shift + line) if line.strip() else line for line in body]
    return [line[-shift:] if line.strip() else line for line in body]


def _checked(path: Path, span: list[str], entry_id: str) -> Entry:
    """The entry of ``span`` as the loader reads it (beside faq.yaml, so its files are
    found); refused when the loader would refuse it."""
    fd, name = tempfile.mkstemp(prefix=".faq.entry.", suffix=".tmp", dir=path.parent)
    temp = Path(name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write("entries:\n" + "".join(span))
        entries, problems = load_faq_file(temp)
    finally:
        temp.unlink(missing_ok=True)
    if problems:
        raise EditRefused(f"the change would not load: {problems[0].message}")
    if len(entries) != 1 or entries[0].id != entry_id:
        raise EditRefused("the change would not load as one entry")
    return entries[0]


def _bare(lines: list[str]) -> list[str]:
    return [line.rstrip("\n") for line in lines]


def _served(seller: Seller, entries: tuple[Entry, ...], after: str) -> Seller:
    digest = hashlib.sha256(after.encode("utf-8")).hexdigest()
    return replace(seller, entries=entries, faq_digest=digest)
