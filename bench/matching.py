"""Matching quality on public intent data: the naive baseline against ``faq.matcher.Matcher``.

Every benchmark of ``bench.datasets`` is run with every available method through
``faq.evaluate.evaluate`` (the code behind ``sellerdesk faq eval``), so the
figures mean exactly what content-format.md section 3 says. The demo seller under
``examples/`` is evaluated too when it and ``faq.content.load_content`` exist.

    python -m bench.matching [--split dev|test] [--quick] [--json FILE]

``--split dev`` is for tuning; report ``test``. ``--quick`` evaluates a fixed
random sample of each benchmark's questions, for a smoke run.
"""

from __future__ import annotations

import argparse
import importlib
import random
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from bench.datasets import REPO_ROOT, SPLITS, Benchmark, Split, load_all
from bench.methods import Method, available_methods
from bench.report import fmt, markdown_table, write_json
from faq.decision import SellerMatcher
from faq.errors import ContentError
from faq.evaluate import Case, evaluate, read_cases
from faq.model import Content, Seller

#: The metric columns of the report, in order (keys of ``evaluate``'s result).
COLUMNS = (
    "top1_accuracy",
    "top3_accuracy",
    "answer_accuracy",
    "suggest_recall",
    "wrong_answer_rate",
    "handoff_recall",
    "mean_ms",
    "p99_ms",
)
#: Questions per benchmark with ``--quick``.
QUICK_CASES = 300
#: Seed of the ``--quick`` sample, fixed so smoke runs are comparable.
QUICK_SEED = 20240601

#: The xSID rows of the per-language block: (label, benchmark) per question language.
XSID_SAME_LANG = {"en": "xsid-en", "zh": "xsid-zh", "ru": "xsid-ru"}
XSID_CROSS = {"zh": "xsid-en-faq-zh", "ru": "xsid-en-faq-ru"}
#: Keys of one per-language row in ``--json``.
GAP_KEYS = ("method", "questions", "en_top1", "top1", "minus_en")


def subsample(cases: Sequence[Case], n: int, seed: int = QUICK_SEED) -> list[Case]:
    """A fixed random sample of ``n`` cases, in their original order (all if fewer)."""
    if len(cases) <= n:
        return list(cases)
    keep = sorted(random.Random(seed).sample(range(len(cases)), n))
    return [cases[i] for i in keep]


def run_one(cases: Sequence[Case], content: Content, method: Method) -> dict[str, Any]:
    """``evaluate`` with one method, plus ``build_s``: the time spent constructing matchers."""
    build_seconds = 0.0

    def timed_factory(seller: Seller) -> SellerMatcher:
        nonlocal build_seconds
        started = time.perf_counter()
        matcher = method.factory(seller)
        build_seconds += time.perf_counter() - started
        return matcher

    result = evaluate(cases, content, timed_factory)
    result["build_s"] = round(build_seconds, 3)
    return result


def run_benchmarks(
    benchmarks: Sequence[Benchmark], methods: Sequence[Method], split: Split, quick: bool
) -> list[dict[str, Any]]:
    """One result row per benchmark × method."""
    rows: list[dict[str, Any]] = []
    for bench in benchmarks:
        cases = bench.cases(split)
        if quick:
            cases = tuple(subsample(cases, QUICK_CASES))
        for method in methods:
            result = run_one(cases, bench.content(), method)
            rows.append({"dataset": bench.name, "method": method.name, **result})
    return rows


def russian_only(content: Content) -> Content:
    """The same sellers with only their Russian question variants (and all answers).

    A Chinese seller may write the FAQ in one language while buyers ask in three: this
    run shows what the matcher makes of en and zh questions against ru variants.
    """
    sellers = {}
    for seller_id, seller in content.sellers.items():
        entries = tuple(
            replace(e, questions={k: v for k, v in e.questions.items() if k == "ru"})
            if "ru" in e.questions
            else e
            for e in seller.entries
        )
        sellers[seller_id] = replace(seller, entries=entries)
    return Content(sellers=sellers, root=content.root)


def demo_results(methods: Sequence[Method], split: Split) -> tuple[list[dict[str, Any]], list[str]]:
    """Evaluate ``examples/eval/*.jsonl`` against ``examples/sellers``, if both exist.

    Files named ``*.<split>.jsonl`` are used when there are any (dev questions are
    for tuning, test for reporting), else every file. The loader is
    ``faq.content.load_content(Path)``, imported lazily like the matcher: until it
    exists, the demo is skipped with a note.
    """
    sellers_dir = REPO_ROOT / "examples" / "sellers"
    eval_dir = REPO_ROOT / "examples" / "eval"
    eval_files = sorted(eval_dir.glob(f"*.{split}.jsonl")) or sorted(eval_dir.glob("*.jsonl"))
    if not sellers_dir.is_dir() or not eval_files:
        return [], ["demo seller: examples/sellers or examples/eval/*.jsonl missing, skipped"]
    try:
        load_content = importlib.import_module("faq.content").load_content
    except (ImportError, AttributeError) as exc:
        return [], [f"demo seller: faq.content.load_content not available ({exc}), skipped"]
    try:
        content: Content = load_content(sellers_dir)
        variants = {"": content, " (ru-only FAQ)": russian_only(content)}
        rows: list[dict[str, Any]] = []
        for path in eval_files:
            cases = read_cases(path)
            for label, variant in variants.items():
                for method in methods:
                    result = run_one(cases, variant, method)
                    name = f"demo:{path.stem}{label}"
                    rows.append({"dataset": name, "method": method.name, **result})
    except (ContentError, KeyError, OSError) as exc:
        return [], [f"demo seller: could not be evaluated: {exc}"]
    return rows, []


def lang_gap_rows(results: Sequence[dict[str, Any]]) -> list[list[Any]]:
    """Per method: xSID top-1 per question language and its gap to English.

    Same-language rows (FAQ and questions in one language) and cross-lingual rows
    (English FAQ, ru/zh questions) are both compared with same-language English.
    """
    top1 = {(r["dataset"], r["method"]): r["top1_accuracy"] for r in results}
    methods = list(dict.fromkeys(r["method"] for r in results))
    table: list[list[Any]] = []
    for method in methods:
        en = top1.get((XSID_SAME_LANG["en"], method))
        if en is None:
            continue
        for label, datasets in (("same language", XSID_SAME_LANG), ("en FAQ", XSID_CROSS)):
            for lang in ("zh", "ru"):
                value = top1.get((datasets[lang], method))
                gap = None if value is None else round(value - en, 4)
                table.append([method, f"{lang} ({label})", en, value, gap])
    return table


def summary_line(results: Sequence[dict[str, Any]], split: str, quick: bool) -> str:
    """One line: per method, the mean over benchmarks of the headline figures."""
    parts: list[str] = []
    for method in dict.fromkeys(r["method"] for r in results):
        mine = [r for r in results if r["method"] == method and not r["dataset"].startswith("demo")]
        if not mine:
            continue

        def mean(key: str, rows: list[dict[str, Any]] = mine) -> float:
            values = [r[key] for r in rows if r[key] is not None]
            return sum(values) / len(values) if values else float("nan")

        parts.append(
            f"{method}: top1 {mean('top1_accuracy'):.3f}, answer {mean('answer_accuracy'):.3f}, "
            f"wrong {mean('wrong_answer_rate'):.3f}, handoff {mean('handoff_recall'):.3f}, "
            f"{mean('mean_ms'):.2f} ms"
        )
    n = len({r["dataset"] for r in results})
    mode = "quick sample" if quick else "all cases"
    return f"summary ({split}, {mode}, mean over {n} benchmarks): " + "; ".join(parts)


def main(argv: Sequence[str] | None = None) -> int:
    """Run every benchmark with every method and print the markdown report."""
    parser = argparse.ArgumentParser(prog="python -m bench.matching", description=__doc__)
    parser.add_argument("--split", choices=SPLITS, default="test")
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_CASES} cases per benchmark")
    parser.add_argument("--only", nargs="*", help="benchmark names (default: all)")
    parser.add_argument("--json", type=Path, metavar="FILE", help="write the raw numbers here")
    args = parser.parse_args(argv)

    methods, notes = available_methods()
    benchmarks = load_all(args.only)
    results = run_benchmarks(benchmarks, methods, args.split, args.quick)
    demo, demo_notes = demo_results(methods, args.split)
    notes += demo_notes

    table_rows = [
        [r["dataset"], r["method"], *(fmt(r[c], 3 if c.endswith("_ms") else 4) for c in COLUMNS)]
        for r in results + demo
    ]
    print(f"## Matching quality ({args.split} split{', quick sample' if args.quick else ''})\n")
    print(markdown_table(["dataset", "method", *COLUMNS], table_rows, "ll" + "r" * len(COLUMNS)))
    gaps = lang_gap_rows(results)
    if gaps:
        print("\n### xSID top-1 by question language, minus English top-1\n")
        print(markdown_table(["method", "questions", "en top1", "top1", "minus en"], gaps, "llrrr"))
        print(
            "\nSame language: FAQ and questions in that language. en FAQ: the English FAQ, "
            "questions in zh/ru. The ru test file has 533 rows to en's 500 (some sentences "
            "were translated twice), so ru and en are close to, not exactly, parallel."
        )
    print("\nDatasets:")
    for bench in benchmarks:
        n = len(bench.cases(args.split))
        print(f"- {bench.name}: {bench.note}; {n} {args.split} cases")
    for note in notes:
        print(f"- note: {note}")
    print()
    print(summary_line(results, args.split, args.quick))

    if args.json:
        write_json(
            args.json,
            {
                "split": args.split,
                "quick": args.quick,
                "methods": [m.name for m in methods],
                "notes": notes,
                "results": results + demo,
                "xsid_lang_gap": [
                    dict(
                        zip(["method", "questions", "en_top1", "top1", "minus_en"], g, strict=True)
                    )
                    for g in gaps
                ],
            },
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
