"""Teaching the FAQ from cases: 100 changes to a 2,000-entry faq.yaml with comments.

    python -m bench.teach [--entries 2000] [--changes 100] [--whole 20]

Each change adds a question to an entry, as a staff press does: the desk's edit of the
entry's own lines (``faq.content.editing.teach_question``: that entry read, changed and
checked by the loader, the file replaced atomically), then the seller with the change
served with a new matcher (``FaqAnswers.replace_seller``), the time from the press to
answering from it. After every tenth change an admin's hand edit (a new comment line)
lands in the file and the content is read again, as the file watcher does; it must
survive. The table: time per change (median, p95), the lines of the original file and
of the hand edits still there, in order, and the lines added.
In the same run, for comparison (``--whole`` changes each): the whole-file round-trip
edit (``add_question``, used when the file is not the one loaded) followed by a reload
of the content, and a naive edit that loads the YAML as plain data and dumps it again,
which keeps no comment.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from ruamel.yaml import YAML

from sellerdesk.bot.desk.answers import ContentSnapshot, FaqAnswers
from sellerdesk.faq.content.editing import add_question, teach_question
from sellerdesk.faq.content.loader import load_content
from sellerdesk.faq.content.model import Seller

SELLER_YAML = "name: Big Shop\nsupport_chat_id: -1001\nlanguages: [ru, en]\n"


def big_faq(path: Path, entries: int) -> list[str]:
    lines = ["# A big shop's FAQ", "entries:"]
    for i in range(entries):
        lines += [
            f"  # --- entry {i} ---",
            f"  - id: e{i}",
            "    questions:",
            f"      ru: [Вопрос номер {i}?, 'Ещё вопрос {i}?']",
            "      en:",
            f"        - Question {i}?  # a comment",
            "    answer:",
            f'      ru: "Ответ {i}"',
            f"      en: Answer {i}.",
        ]
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return lines


def kept(original: list[str], now: list[str]) -> int:
    """How many of ``original``'s lines are still in ``now``, in order."""
    it = iter(now)
    return sum(1 for line in original if any(line == x for x in it))


def naive_add(path: Path, entry_id: str, question: str) -> None:
    yaml = YAML(typ="safe", pure=True)
    data = yaml.load(path.read_text("utf-8"))
    for entry in data["entries"]:
        if entry["id"] == entry_id:
            entry["questions"].setdefault("en", []).append(question)
    with path.open("w", encoding="utf-8") as handle:
        yaml.dump(data, handle)


def run(entries: int, changes: int, how: str) -> dict[str, float]:
    """``how``: ``entry`` (the desk's edit and serving), ``whole`` (round trip and a
    reload), ``naive`` (load and dump)."""
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "big-shop").mkdir()
        (root / "big-shop" / "seller.yaml").write_text(SELLER_YAML, "utf-8")
        faq = root / "big-shop" / "faq.yaml"
        original = big_faq(faq, entries)
        faq_answers = FaqAnswers(load_content(root), "fuzzy")
        faq_answers.build_all(background=False)
        hand: list[str] = []
        times: list[float] = []
        fallbacks = 0
        for n in range(changes):
            entry_id, question = f"e{n * 13 % entries}", f"Another way {n}?"
            started = time.perf_counter()
            if how == "naive":
                naive_add(faq, entry_id, question)
            elif how == "whole":
                add_question(faq, entry_id, "en", question)
                faq_answers.live.swap(ContentSnapshot(load_content(root)))
                faq_answers.build_all(background=False)
            else:
                seller = faq_answers.seller("big-shop")
                assert isinstance(seller, Seller)
                taught = teach_question(seller, entry_id, "en", question)
                if taught.seller is None or not faq_answers.replace_seller(taught.seller):
                    fallbacks += 1
            times.append(time.perf_counter() - started)
            if how != "naive":
                served = faq_answers.seller("big-shop")
                assert served is not None and served.entry(entry_id) is not None
                found = faq_answers.matcher(served).decide(question).best
                assert found is not None and found.target == entry_id, (question, found)
            if n % 10 == 9:
                line = f"  # an admin's note {n}"
                hand.append(line)
                faq.write_text(faq.read_text("utf-8") + line + "\n", "utf-8")
                # The file watcher reads the content again.
                faq_answers.live.swap(ContentSnapshot(load_content(root)))
                faq_answers.build_all(background=False)
        now = faq.read_text("utf-8").splitlines()
        comments = [line for line in original if line.lstrip().startswith("#") or " # " in line]
        return {
            "median_s": statistics.median(times),
            "p95_s": sorted(times)[int(0.95 * (len(times) - 1))],
            "original_kept": kept(original, now) / len(original),
            "comments_kept": kept(comments, now) / len(comments),
            "hand_kept": kept(hand, now) / len(hand) if hand else 1.0,
            "lines_added": len(now) - len(original) - len(hand),
            "fallbacks": fallbacks,
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--entries", type=int, default=2000)
    parser.add_argument("--changes", type=int, default=100)
    parser.add_argument("--whole", type=int, default=20, help="changes of the comparisons")
    args = parser.parse_args()
    rows = [
        ("entry edit + serve (sellerdesk)", args.changes, run(args.entries, args.changes, "entry")),
        ("whole-file edit + reload", args.whole, run(args.entries, args.whole, "whole")),
        ("baseline: load and dump", args.whole, run(args.entries, args.whole, "naive")),
    ]
    print(f"changes to a {args.entries}-entry faq.yaml, press to served")
    print(
        f"{'':32} {'changes':>7} {'median s':>9} {'p95 s':>7} {'orig lines':>10} "
        f"{'comments':>9} {'hand edits':>10} {'added':>6}"
    )
    for name, changes, r in rows:
        print(
            f"{name:32} {changes:7d} {r['median_s']:9.2f} {r['p95_s']:7.2f} "
            f"{r['original_kept']:10.1%} {r['comments_kept']:9.1%} {r['hand_kept']:10.1%} "
            f"{r['lines_added']:6.0f}"
        )
    if rows[0][2]["fallbacks"]:
        print(f"entry edits that fell back to the whole-file path: {rows[0][2]['fallbacks']:.0f}")


if __name__ == "__main__":
    main()
