"""Changing a seller's faq.yaml from the desk: a question added to an entry, or a new
entry, written so that the rest of the file stays as its author wrote it.

The file is read and written in ruamel.yaml's round-trip mode, which keeps comments,
key order, quoting and flow or block style; only the changed lines differ. The new text
is written to a temporary file beside it, read back with the loader
(:func:`faq.content.faq_file.load_faq_file`), and only then moved over faq.yaml in one
``os.replace``: a reader sees the old file or the new one, never half of one. If the
file changed on disk since it was read (an admin editing it by hand), nothing is
written: :class:`EditRefused` says so and the hand edit stands.
"""

from __future__ import annotations

import difflib
import io
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from sellerdesk.faq.content.faq_file import load_faq_file

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
        return entry_id

    return _edit(path, change)


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
        taken = {str(e.get("id")) for e in entries if isinstance(e, CommentedMap)}
        entry_id = base_id
        n = 1
        while entry_id in taken:
            n += 1
            entry_id = f"{base_id}-{n}"
        entry = CommentedMap()
        entry["id"] = entry_id
        entry["questions"] = CommentedMap({lang: CommentedSeq([question])})
        entry["answer"] = CommentedMap({lang: answer})
        entries.append(entry)
        return entry_id

    return _edit(path, change)


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
    after = out.getvalue()
    fd, name = tempfile.mkstemp(prefix=".faq.yaml.", suffix=".tmp", dir=path.parent)
    temp = Path(name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(after)
            handle.flush()
            os.fsync(handle.fileno())
        _, problems = load_faq_file(temp)
        if problems:
            raise EditRefused(f"the change would not load: {problems[0].message}")
        if path.read_bytes() != before:
            raise EditRefused(f"{path.name} was changed by hand meanwhile; nothing written")
        os.chmod(temp, path.stat().st_mode & 0o777)
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)
    diff = difflib.unified_diff(
        before.decode("utf-8-sig").splitlines(),
        after.splitlines(),
        fromfile=path.name,
        tofile=path.name,
        n=1,
        lineterm="",
    )
    lines = list(diff)
    if len(lines) > DIFF_LINES:
        lines = [*lines[:DIFF_LINES], "…"]
    return Edit(entry_id, "\n".join(lines))
