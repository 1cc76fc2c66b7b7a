"""Teaching the FAQ from cases: 100 changes to a 2,000-entry faq.yaml with comments.

    python -m bench.teach [--entries 2000] [--changes 100]

Each change adds a question to an entry (``faq.content.editing.add_question``: a
round-trip YAML edit, checked by the loader, moved over the file atomically); after
every tenth change an admin's hand edit (a new comment line) lands between two changes
and must survive. The table: time per change (median, p95), the lines of the original
file and of the hand edits still there, in order, and the file's other lines changed.
Baseline in the same run: the same changes written by loading the YAML as plain data
and dumping it again (what a naive edit does), which keeps no comment.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from ruamel.yaml import YAML

from sellerdesk.faq.content.editing import add_question


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


def run(entries: int, changes: int, naive: bool) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        faq = Path(folder) / "faq.yaml"
        original = big_faq(faq, entries)
        hand: list[str] = []
        times: list[float] = []
        for n in range(changes):
            started = time.perf_counter()
            if naive:
                naive_add(faq, f"e{n * 13 % entries}", f"Another way {n}?")
            else:
                add_question(faq, f"e{n * 13 % entries}", "en", f"Another way {n}?")
            times.append(time.perf_counter() - started)
            if n % 10 == 9:
                line = f"  # an admin's note {n}"
                hand.append(line)
                faq.write_text(faq.read_text("utf-8") + line + "\n", "utf-8")
        now = faq.read_text("utf-8").splitlines()
        comments = [line for line in original if line.lstrip().startswith("#") or " # " in line]
        return {
            "median_s": statistics.median(times),
            "p95_s": sorted(times)[int(0.95 * (len(times) - 1))],
            "original_kept": kept(original, now) / len(original),
            "comments_kept": kept(comments, now) / len(comments),
            "hand_kept": kept(hand, now) / len(hand) if hand else 1.0,
            "lines_added": len(now) - len(original) - len(hand),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--entries", type=int, default=2000)
    parser.add_argument("--changes", type=int, default=100)
    args = parser.parse_args()
    rows = [
        ("round-trip edit (sellerdesk)", run(args.entries, args.changes, naive=False)),
        ("baseline: load and dump", run(args.entries, args.changes, naive=True)),
    ]
    print(f"{args.changes} changes to a {args.entries}-entry faq.yaml")
    print(
        f"{'':30} {'median s':>9} {'p95 s':>7} {'orig lines':>10} {'comments':>9} "
        f"{'hand edits':>10} {'added':>6}"
    )
    for name, r in rows:
        print(
            f"{name:30} {r['median_s']:9.2f} {r['p95_s']:7.2f} {r['original_kept']:10.1%} "
            f"{r['comments_kept']:9.1%} {r['hand_kept']:10.1%} {r['lines_added']:6.0f}"
        )


if __name__ == "__main__":
    main()
