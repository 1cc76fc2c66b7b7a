"""faq.yaml (the entries) and templates.yaml (staff's quick replies) (docs/content-format.md)."""

from __future__ import annotations

from collections.abc import Container
from pathlib import Path

from ruamel.yaml.nodes import MappingNode, Node, ScalarNode

from sellerdesk.faq.content.checker import (
    ENTRY_ID,
    Checker,
    load_yaml,
)
from sellerdesk.faq.content.errors import Problem
from sellerdesk.faq.content.model import (
    Entry,
    Template,
)

ENTRY_REQUIRED = ("id", "questions", "answer")
ENTRY_OPTIONAL = ("keywords", "handoff")


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
