"""Matching quality: the evaluation sellers one by one, public intent data, the demo.

**Evaluation sellers** (``bench/sellers``, questions in ``bench/cases``): each seller is
scored with models and thresholds fitted on the *other* sellers' dev questions only
(``bench.tune.fit_policy``), as a seller the matcher has never seen would meet it;
the table shows every seller and the mean over them, and the figures per question
language pooled over the sellers. Then every benchmark of ``bench.datasets`` and the
demo seller under ``examples/`` with the shipped models. Everything goes through
``faq.evaluate.evaluate`` (the code behind ``sellerdesk faq eval``), so the figures
mean exactly what docs/content-format.md section 3 says.

    python -m bench.matching [--split dev|test] [--quick] [--only NAME ...] [--json FILE]

``--split test`` (the default) is for reports; read it once. ``--quick`` evaluates a
fixed random sample of each public benchmark's questions, for a smoke run.
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
from sellerdesk.faq.content.errors import ContentError
from sellerdesk.faq.content.model import Content, Seller
from sellerdesk.faq.evaluate import Case, evaluate, read_cases
from sellerdesk.faq.matching.decision import SellerMatcher
from sellerdesk.faq.matching.policy import MODES

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
    ``faq.content.loader.load_content(Path)``, imported lazily like the matcher: until it
    exists, the demo is skipped with a note.
    """
    sellers_dir = REPO_ROOT / "examples" / "sellers"
    eval_dir = REPO_ROOT / "examples" / "eval"
    eval_files = sorted(eval_dir.glob(f"*.{split}.jsonl")) or sorted(eval_dir.glob("*.jsonl"))
    if not sellers_dir.is_dir() or not eval_files:
        return [], ["demo seller: examples/sellers or examples/eval/*.jsonl missing, skipped"]
    try:
        load_content = importlib.import_module("sellerdesk.faq.content.loader").load_content
    except (ImportError, AttributeError) as exc:
        return [], [f"demo seller: the content loader is not available ({exc}), skipped"]
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


#: Counts behind the ratios of ``evaluate`` (to pool sellers): ratio key -> count key.
_POOLED = {
    "top1_accuracy": "in_scope",
    "top3_accuracy": "in_scope",
    "answer_accuracy": "in_scope",
    "suggest_recall": "in_scope",
    "wrong_answer_rate": "cases",
    "handoff_recall": "out_of_scope",
}


def pooled(results: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The figures of several results as if they were one set of questions."""
    out: dict[str, Any] = {
        k: sum(r[k] for r in results) for k in ("cases", "in_scope", "out_of_scope")
    }
    for key, base in _POOLED.items():
        num = sum((r[key] or 0.0) * r[base] for r in results)
        out[key] = round(num / out[base], 4) if out[base] else None
    return out


def seller_results(
    methods: Sequence[Method], split: Split
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[str]]:
    """Every evaluation seller with every method, leave one seller out.

    The fuzzy and hybrid matchers get the policy ``bench.tune.fit_policy`` fits on the
    other sellers' dev questions; the baseline has nothing to fit. Returns the rows per
    seller, the rows per method and question language (pooled over sellers), notes.
    """
    from bench import tune

    dev = tune.eval_sellers("dev")
    scored = tune.eval_sellers(split)
    if not dev or not scored:
        return [], [], ["evaluation sellers: bench/sellers or bench/cases missing, skipped"]
    rows: list[dict[str, Any]] = []
    lang_rows: list[dict[str, Any]] = []
    for method in methods:
        ranked = None
        if method.name in MODES:
            ranked = tune.rank_all(dev, tune.weights_for(method.name))
        per_seller = []
        for seller_id, seller, cases in scored:
            factory = method.factory
            if ranked is not None:
                others = {k: v for k, v in ranked.items() if k != seller_id}
                policy = tune.fit_policy(others, tune.policy_for(method.name))
                factory = _with_policy(method.name, policy)
            content = Content(sellers={seller_id: seller}, root=tune.SELLERS_DIR)
            result = run_one(cases, content, Method(method.name, factory))
            per_seller.append(result)
            rows.append({"dataset": f"seller:{seller_id}", "method": method.name, **result})
        mean = {
            c: round(sum(r[c] or 0.0 for r in per_seller) / len(per_seller), 4) for c in COLUMNS
        }
        rows.append({"dataset": "sellers: mean of held-out", "method": method.name, **mean})
        for lang in ("ru", "en", "zh"):
            parts = [r["per_lang"][lang] for r in per_seller if lang in r["per_lang"]]
            if parts:
                lang_rows.append({"method": method.name, "lang": lang, **pooled(parts)})
    return rows, lang_rows, []


def _with_policy(mode: str, policy: Any) -> Any:
    from bench.methods import CACHE_DIR
    from sellerdesk.faq.matching.matcher import make_matcher

    def factory(seller: Seller) -> SellerMatcher:
        return make_matcher(seller, mode, cache_dir=CACHE_DIR, policy=policy)

    return factory


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
    sellers, seller_langs, seller_notes = seller_results(methods, args.split)
    notes += seller_notes
    benchmarks = load_all(args.only)
    results = run_benchmarks(benchmarks, methods, args.split, args.quick)
    demo, demo_notes = demo_results(methods, args.split)
    notes += demo_notes

    def cells(r: dict[str, Any]) -> list[Any]:
        return [
            r["dataset"],
            r["method"],
            *(fmt(r[c], 3 if c.endswith("_ms") else 4) for c in COLUMNS),
        ]

    print(f"## Matching quality ({args.split} split{', quick sample' if args.quick else ''})\n")
    if sellers:
        print("### Evaluation sellers, each scored by models fitted on the others\n")
        print(
            markdown_table(
                ["seller", "method", *COLUMNS],
                [cells(r) for r in sellers],
                "ll" + "r" * len(COLUMNS),
            )
        )
        keys: tuple[str, ...] = ("cases", "top1_accuracy", "answer_accuracy", "suggest_recall")
        keys += ("wrong_answer_rate", "handoff_recall")
        print("\nBy question language, pooled over the sellers:\n")
        print(
            markdown_table(
                ["method", "lang", *keys],
                [[r["method"], r["lang"], *(r[k] for k in keys)] for r in seller_langs],
                "ll" + "r" * len(keys),
            )
        )
        print("\n### Public data sets and the demo seller (the shipped models)\n")
    table_rows = [cells(r) for r in results + demo]
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
                "sellers": sellers,
                "seller_languages": seller_langs,
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
