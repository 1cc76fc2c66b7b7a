"""Changing faq.yaml from the desk: only the changed lines differ, a hand edit made
meanwhile is never overwritten, and the file is never half written."""

from __future__ import annotations

import difflib
import os
import time
from pathlib import Path
from typing import Any

import pytest

from sellerdesk.faq.content import editing
from sellerdesk.faq.content.editing import (
    EditRefused,
    add_entry,
    add_question,
    teach_entry,
    teach_question,
)
from sellerdesk.faq.content.faq_file import load_faq_file
from sellerdesk.faq.content.loader import load_content
from sellerdesk.faq.content.model import Seller

ENTRIES = 120


def _big_faq(path: Path) -> list[str]:
    lines = ["# The shop's FAQ: keep this comment", "entries:"]
    for i in range(ENTRIES):
        lines += [
            f"  # --- entry {i} ---",
            f"  - id: e{i}",
            "    questions:",
            f"      ru: [Вопрос номер {i}?, 'Ещё вопрос {i}?']   # flow style stays",
            "      en:",
            f"        - Question {i}?  # a comment on a question",
            "    answer:",
            f'      ru: "Ответ {i}: в кавычках"',
            "      en: |",
            f"        Answer {i},",
            "        on two lines.",
        ]
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return lines


def test_many_changes_keep_every_line_they_did_not_change(tmp_path: Path) -> None:
    faq = tmp_path / "faq.yaml"
    original = _big_faq(faq)
    for n in range(12):
        add_question(faq, f"e{n * 7}", "en", f"Another way to ask {n}?")
    add_entry(faq, "taught-new", "ru", "Новый вопрос?", "Новый ответ.")
    changed = faq.read_text("utf-8").splitlines()
    rest = iter(changed)
    assert all(any(line == now for now in rest) for line in original)  # all, in order
    assert len(changed) == len(original) + 12 + 6
    entries, problems = load_faq_file(faq)
    assert problems == [] and len(entries) == ENTRIES + 1
    assert "Another way to ask 3?" in entries[21].questions["en"]


def test_refusals_write_nothing(tmp_path: Path) -> None:
    faq = tmp_path / "faq.yaml"
    _big_faq(faq)
    before = faq.read_bytes()
    with pytest.raises(EditRefused, match="already"):
        add_question(faq, "e1", "en", "question  1?")
    with pytest.raises(EditRefused, match="no longer"):
        add_question(faq, "gone", "en", "Where did it go?")
    with pytest.raises(EditRefused, match="needs"):
        add_entry(faq, "x", "ru", "Вопрос?", "   ")
    assert faq.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["faq.yaml"]


def test_a_hand_edit_made_meanwhile_is_never_overwritten(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    faq = tmp_path / "faq.yaml"
    _big_faq(faq)
    real = load_faq_file

    def admin_saves_meanwhile(path: Path) -> Any:
        faq.write_text(faq.read_text("utf-8") + "  # the admin's own line\n", "utf-8")
        return real(path)

    monkeypatch.setattr(editing, "load_faq_file", admin_saves_meanwhile)
    with pytest.raises(EditRefused, match="by hand"):
        add_question(faq, "e1", "en", "New?")
    assert faq.read_text("utf-8").endswith("# the admin's own line\n")
    assert "New?" not in faq.read_text("utf-8")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["faq.yaml"]


def test_a_change_the_loader_would_refuse_is_not_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    faq = tmp_path / "faq.yaml"
    _big_faq(faq)
    before = faq.read_bytes()
    real = load_faq_file

    def refuses(path: Path) -> Any:
        entries, problems = real(path)
        return entries, [*problems, *real(tmp_path / "missing.yaml")[1]]

    monkeypatch.setattr(editing, "load_faq_file", refuses)
    with pytest.raises(EditRefused, match="would not load"):
        add_question(faq, "e1", "en", "New?")
    assert faq.read_bytes() == before


def test_a_broken_file_is_not_touched(tmp_path: Path) -> None:
    faq = tmp_path / "faq.yaml"
    faq.write_text("entries:\n  - id: a\n    questions: [unclosed\n", "utf-8")
    with pytest.raises(EditRefused, match="fix it first"):
        add_question(faq, "a", "ru", "Вопрос?")
    assert faq.read_text("utf-8").endswith("[unclosed\n")


# ------------------------------------------------------- edits of a loaded seller


def _seller(tmp_path: Path) -> Seller:
    folder = tmp_path / "shop"
    folder.mkdir()
    (folder / "seller.yaml").write_text(
        "name: Shop\nsupport_chat_id: -1001\nlanguages: [ru, en]\n", "utf-8"
    )
    _big_faq(folder / "faq.yaml")
    return load_content(tmp_path).sellers["shop"]


def test_entry_level_edits_serve_exactly_what_a_reload_would(tmp_path: Path) -> None:
    seller = _seller(tmp_path)
    faq = tmp_path / "shop" / "faq.yaml"
    original = faq.read_text("utf-8").splitlines()
    for n, (entry, lang) in enumerate([("e5", "en"), ("e0", "ru"), ("e119", "zh"), ("e5", "en")]):
        taught = teach_question(seller, entry, lang, f"Ещё один способ {n}?")
        assert taught.seller is not None, "made at the entry's own lines"
        seller = taught.seller
        assert f"Ещё один способ {n}?" in taught.edit.diff
    taught = teach_entry(seller, "taught-new", "ru", "Новый вопрос?", "Новый ответ.")
    assert taught.seller is not None and taught.edit.entry_id == "taught-new"
    seller = taught.seller
    # The entries served (their lines too) are the ones a reload reads from the file.
    fresh = load_content(tmp_path).sellers["shop"]
    assert seller.entries == fresh.entries
    assert seller.faq_digest == fresh.faq_digest
    assert "Ещё один способ 3?" in fresh.entry("e5").questions["en"]  # type: ignore[union-attr]
    assert fresh.entry("e119").questions["zh"] == ("Ещё один способ 2?",)  # type: ignore[union-attr]
    changed = faq.read_text("utf-8").splitlines()
    # Every line is still there, in order, but e0's one-line ru list, which grew.
    blocks = difflib.SequenceMatcher(None, original, changed, autojunk=False)
    assert sum(b.size for b in blocks.get_matching_blocks()) == len(original) - 1
    with pytest.raises(EditRefused, match="already"):
        teach_question(seller, "e5", "en", "Ещё один способ 3?")


def test_a_hand_edit_since_the_load_takes_the_whole_file_edit(tmp_path: Path) -> None:
    seller = _seller(tmp_path)
    faq = tmp_path / "shop" / "faq.yaml"
    faq.write_text(faq.read_text("utf-8") + "  # the admin's note\n", "utf-8")
    taught = teach_question(seller, "e3", "en", "Another way?")
    assert taught.seller is None  # the content is reloaded instead
    text = faq.read_text("utf-8")
    assert "the admin's note" in text and "Another way?" in text
    # A file with Windows line ends is edited whole too: its line ends are never mixed.
    faq.write_bytes(faq.read_bytes().replace(b"\n", b"\r\n"))
    fresh = load_content(tmp_path).sellers["shop"]
    assert teach_entry(fresh, "taught-x", "en", "New?", "Yes.").seller is None
    data = faq.read_bytes()
    assert data.count(b"\r\n") in (0, data.count(b"\n"))
    entries, problems = load_faq_file(faq)
    assert problems == [] and entries[-1].id == "taught-x"


def test_an_entry_level_change_the_loader_refuses_writes_nothing(tmp_path: Path) -> None:
    seller = _seller(tmp_path)
    faq = tmp_path / "shop" / "faq.yaml"
    before = faq.read_bytes()
    with pytest.raises(EditRefused, match="language"):
        teach_question(seller, "e1", "russian", "Вопрос?")
    with pytest.raises(EditRefused, match="needs"):
        teach_entry(seller, "x", "ru", "Вопрос?", "  ")
    assert faq.read_bytes() == before
    assert sorted(p.name for p in faq.parent.iterdir()) == ["faq.yaml", "seller.yaml"]


def test_a_new_entry_is_made_once_for_a_question(tmp_path: Path) -> None:
    """A press repeated after a crash between writing the file and recording the
    press finds the entry it made: no second entry with the same question."""
    seller = _seller(tmp_path)
    faq = tmp_path / "shop" / "faq.yaml"
    taught = teach_entry(seller, "taught-q", "ru", "Шьёте на заказ?", "Да.")
    assert taught.seller is not None
    for again in (seller, taught.seller):  # the seller before the change, and after
        with pytest.raises(EditRefused, match="taught-q has this question already"):
            teach_entry(again, "taught-q", "ru", "шьёте  на заказ?", "Да.")
    with pytest.raises(EditRefused, match="e7 has this question already"):
        add_entry(faq, "x", "en", "question 7?", "Yes.")
    entries, problems = load_faq_file(faq)
    assert problems == [] and [e.id for e in entries].count("taught-q") == 1


def test_temporary_files_of_an_edit_killed_midway_are_swept(tmp_path: Path) -> None:
    seller = _seller(tmp_path)
    folder = tmp_path / "shop"
    stale = folder / ".faq.yaml.abc123.tmp"
    stale.write_text("half an edit", "utf-8")
    old = time.time() - editing.STALE_TEMP_S - 60
    os.utime(stale, (old, old))
    fresh = folder / ".faq.entry.def456.tmp"  # another process's edit, running now
    fresh.write_text("entries:\n", "utf-8")
    teach_question(seller, "e2", "en", "Yet another way?")
    assert not stale.exists() and fresh.exists()
    assert load_content(tmp_path).sellers["shop"].entry("e2") is not None
