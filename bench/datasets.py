"""Public intent data sets turned into sellers and evaluation cases for the FAQ matcher.

Each benchmark is one in-memory seller (one FAQ entry per intent, its question
variants taken from the data set) plus two lists of labelled questions: ``dev``
for tuning thresholds and ``test`` for reporting. The recipes follow
``shared/bench/datasets/README.md``; the metrics come from ``faq.evaluate``.

The data is read at run time from ``shared/bench/datasets`` beside the repository
(or from ``$SELLERDESK_BENCH_DATA``) and never copied into it: the Russian xSID
files carry no licence and must not be redistributed. :func:`write_benchmark`
therefore only writes outside the repository or under the git-ignored
``bench/out/``.

Run ``python -m bench.datasets [--out DIR]`` to write every benchmark to disk in
the docs/content-format.md layout, ready for ``sellerdesk faq eval``.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

from sellerdesk.faq.content.model import Content, Entry, Seller
from sellerdesk.faq.evaluate import Case

#: Where the data sets live unless ``$SELLERDESK_BENCH_DATA`` says otherwise.
DEFAULT_DATA_DIR = Path(__file__).resolve().parents[2] / "shared" / "bench" / "datasets"
#: The repository root; writes inside it are only allowed under :data:`OUT_DIR`.
REPO_ROOT = Path(__file__).resolve().parents[1]
#: Git-ignored folder for generated content (see .gitignore).
OUT_DIR = REPO_ROOT / "bench" / "out"

#: Question variants per FAQ entry (the "10-shot" setting of the benchmarks).
SHOTS = 10
#: xSID intents held out of the FAQ: their questions must be handed off.
XSID_HELD_OUT_PREFIX = "reminder/"

Split = Literal["dev", "test"]
SPLITS: tuple[Split, ...] = ("dev", "test")

_ENTRY_ID = re.compile(r"[a-z0-9][a-z0-9-]*")


def data_dir() -> Path:
    """The folder holding the data sets: ``$SELLERDESK_BENCH_DATA`` or ../shared."""
    override = os.environ.get("SELLERDESK_BENCH_DATA")
    return Path(override).expanduser().resolve() if override else DEFAULT_DATA_DIR


def label_to_id(label: str) -> str:
    """Turn an intent label into a valid entry id (``alarm/set_alarm`` -> ``alarm-set-alarm``).

    CamelCase is split (``AddToPlaylist`` -> ``add-to-playlist``) so the ids stay
    readable in reports; every other run of non-alphanumerics becomes one hyphen.
    """
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1-\2", label)
    entry_id = re.sub(r"[^a-z0-9]+", "-", spaced.lower()).strip("-")
    if not _ENTRY_ID.fullmatch(entry_id):
        raise ValueError(f"label {label!r} gives no usable entry id")
    return entry_id


@dataclass(frozen=True)
class Benchmark:
    """One seller built from a data set, with its tuning and reporting questions."""

    #: Short name used in reports (also the seller id).
    name: str
    seller: Seller
    dev: tuple[Case, ...]
    test: tuple[Case, ...]
    #: How the benchmark was built, for report footnotes.
    note: str = ""
    #: False when the source data may not be redistributed (ru xSID).
    redistributable: bool = True

    def cases(self, split: Split) -> tuple[Case, ...]:
        """The questions of ``split`` ("dev" for tuning, "test" for reporting)."""
        return self.dev if split == "dev" else self.test

    def content(self) -> Content:
        """The seller wrapped as content, the form ``faq.evaluate.evaluate`` takes."""
        return Content(sellers={self.seller.id: self.seller})


# --------------------------------------------------------------------------- builders


#: Every entry of a public data set answers with this text: the data sets have no
#: answers, and one that named the intent would hand the answer signal the label.
PLACEHOLDER_ANSWER = "(the data set has no answer texts)"


def _placeholder_answer(label: str, lang: str) -> dict[str, str]:
    return {lang: PLACEHOLDER_ANSWER}


def build_seller(
    seller_id: str,
    name: str,
    lang: str,
    variants: dict[str, list[str]],
) -> Seller:
    """An in-memory seller with one FAQ entry per label, questions in ``lang``.

    Args:
        seller_id: the seller id (also the benchmark name).
        name: the human-readable seller name.
        lang: the language of every question variant and answer.
        variants: label -> its question variants, in the order they should appear.
    """
    entries: list[Entry] = []
    seen: dict[str, str] = {}
    for label, questions in variants.items():
        entry_id = label_to_id(label)
        if entry_id in seen:
            raise ValueError(f"labels {seen[entry_id]!r} and {label!r} share id {entry_id!r}")
        seen[entry_id] = label
        entries.append(
            Entry(
                id=entry_id,
                questions={lang: tuple(questions)},
                answer=_placeholder_answer(label, lang),
            )
        )
    return Seller(
        id=seller_id,
        name=name,
        support_chat_id=-1,
        languages=(lang,),
        entries=tuple(entries),
    )


def first_k(rows: Iterable[tuple[str, str]], k: int = SHOTS) -> dict[str, list[str]]:
    """The first ``k`` distinct texts per label, in file order (deterministic k-shot FAQ)."""
    picked: dict[str, list[str]] = {}
    for text, label in rows:
        bucket = picked.setdefault(label, [])
        if len(bucket) < k and text not in bucket:
            bucket.append(text)
    return picked


def make_cases(
    seller: Seller,
    rows: Iterable[tuple[str, str | None]],
    lang: str,
) -> tuple[Case, ...]:
    """Cases for ``seller``: a row whose label has an FAQ entry expects it, others expect None."""
    ids = {e.id for e in seller.entries}
    cases: list[Case] = []
    for text, label in rows:
        entry_id = label_to_id(label) if label is not None else None
        cases.append(Case(seller.id, text, entry_id if entry_id in ids else None, lang))
    return tuple(cases)


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def clinc150(k: int = SHOTS) -> Benchmark:
    """CLINC150, k-shot: FAQ from ``train``; dev = val + oos_val; test = test + oos_test."""
    with (data_dir() / "clinc150" / "data_full.json").open(encoding="utf-8") as fh:
        data: dict[str, list[list[str]]] = json.load(fh)

    def pairs(key: str) -> list[tuple[str, str | None]]:
        return [(text, None if label == "oos" else label) for text, label in data[key]]

    seller = build_seller(
        "clinc150",
        "CLINC150 (10-shot)",
        "en",
        first_k(((t, lab) for t, lab in data["train"]), k),
    )
    return Benchmark(
        name="clinc150",
        seller=seller,
        dev=make_cases(seller, pairs("val") + pairs("oos_val"), "en"),
        test=make_cases(seller, pairs("test") + pairs("oos_test"), "en"),
        note=f"150 intents, first {k} train utterances each; OOS = CLINC oos",
    )


def _banking77_labels() -> dict[str, str]:
    """Original BANKING77 label of every train/test text, lower-cased (as BANKING77-OOS has it)."""
    labels: dict[str, str] = {}
    for name in ("train.csv", "test.csv"):
        with (data_dir() / "banking77" / name).open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                labels[row["text"].lower().strip()] = row["category"]
    return labels


def banking77_oos(k: int = SHOTS, relabel: bool = True) -> Benchmark:
    """BANKING77-OOS, k-shot: 50 in-scope intents; 27 held-out banking intents + CLINC oos.

    The upstream labels are misaligned with the texts at the start of many intents'
    blocks (an offset growing to 11 rows): 366 train rows carry another intent's
    label, 353 of them among the first 10 rows of 43 intents (for 16 intents all
    10 are another intent's questions); valid and test have the same fault. With ``relabel``
    (the default) every row whose text is a BANKING77 utterance gets its original
    BANKING77 label back, and is in scope iff that label is one of the 50 in-scope
    intents; the rest (CLINC oos, 2 texts not found) keep the upstream label.
    ``relabel=False`` is the recipe as written, on the upstream labels.
    """
    root = data_dir() / "banking77_oos"
    with (root / "intent_split.json").open(encoding="utf-8") as fh:
        in_scope = set(json.load(fh)["in_scope_intents"])
    original = _banking77_labels() if relabel else {}
    changed = 0

    def pairs(*names: str) -> list[tuple[str, str | None]]:
        nonlocal changed
        out: list[tuple[str, str | None]] = []
        for name in names:
            for row in _read_jsonl(root / f"{name}.jsonl"):
                label: str | None = None if row["label"] == "oos" else row["label"]
                true = original.get(row["text"].strip())
                if true is not None:
                    fixed = true if true in in_scope else None
                    changed += fixed != label
                    label = fixed
                out.append((row["text"], label))
        return out

    train = [(t, lab) for t, lab in pairs("train", "id_oos_train") if lab is not None]
    variants = first_k(train, k)
    variants = {lab: variants[lab] for lab in sorted(in_scope, key=str.lower) if lab in variants}
    name = "banking77-oos" if relabel else "banking77-oos-raw"
    seller = build_seller(name, "BANKING77-OOS (10-shot)", "en", variants)
    dev = make_cases(seller, pairs("valid", "id_oos_valid", "ood_oos_valid"), "en")
    test = make_cases(seller, pairs("test", "id_oos_test", "ood_oos_test"), "en")
    labels = (
        f"labels restored from BANKING77 ({changed} rows changed)" if relabel else "upstream labels"
    )
    return Benchmark(
        name=name,
        seller=seller,
        dev=dev,
        test=test,
        note=f"50 intents, first {k} train rows each; OOS = 27 banking intents + CLINC oos; "
        + labels,
    )


def _xsid_rows(lang: str, split: str) -> list[dict[str, Any]]:
    return _read_jsonl(data_dir() / "xsid_en_zh_ru" / f"{lang}.{split}.jsonl")


def _xsid_faq(valid: Sequence[dict[str, Any]], k: int) -> dict[str, list[str]]:
    """Up to k distinct valid utterances per intent, reminder/* held out."""
    kept = [
        (row["text"], row["intent"])
        for row in valid
        if not row["intent"].startswith(XSID_HELD_OUT_PREFIX)
    ]
    return first_k(kept, k)


def _norm_en(text: str) -> str:
    """English text with case, punctuation and spacing ignored, for joining parallel rows."""
    return " ".join(re.sub(r"[^\w]+", " ", text.lower()).split())


def xsid(lang: str, k: int = SHOTS) -> Benchmark:
    """xSID in one language: FAQ and questions both in ``lang``.

    FAQ = up to k ``valid`` utterances per intent (reminder/* held out as
    out-of-scope); dev = the other valid rows; test = the ``test`` rows. Intents
    with no FAQ entry (reminder/*, alarm/time_left_on_alarm) expect a handoff.
    """
    valid = _xsid_rows(lang, "valid")
    variants = _xsid_faq(valid, k)
    used = {text for texts in variants.values() for text in texts}
    seller = build_seller(f"xsid-{lang}", f"xSID {lang} (10-shot)", lang, variants)
    dev_rows = [(r["text"], r["intent"]) for r in valid if r["text"] not in used]
    test_rows = [(r["text"], r["intent"]) for r in _xsid_rows(lang, "test")]
    return Benchmark(
        name=f"xsid-{lang}",
        seller=seller,
        dev=make_cases(seller, dev_rows, lang),
        test=make_cases(seller, test_rows, lang),
        note=f"{len(variants)} intents, reminder/* held out as OOS",
        redistributable=lang != "ru",
    )


def xsid_cross(query_lang: str, k: int = SHOTS) -> Benchmark:
    """xSID cross-lingual: FAQ in English (from en valid), questions in ``query_lang``.

    Dev = the ``query_lang`` valid rows whose English source is not an FAQ variant,
    so no dev question is a translation of an FAQ question.
    """
    variants = _xsid_faq(_xsid_rows("en", "valid"), k)
    used = {_norm_en(text) for texts in variants.values() for text in texts}
    name = f"xsid-en-faq-{query_lang}"
    seller = build_seller(name, f"xSID en FAQ, {query_lang} questions", "en", variants)
    dev_rows = [
        (r["text"], r["intent"])
        for r in _xsid_rows(query_lang, "valid")
        if _norm_en(r["text_en"]) not in used
    ]
    test_rows = [(r["text"], r["intent"]) for r in _xsid_rows(query_lang, "test")]
    return Benchmark(
        name=name,
        seller=seller,
        dev=make_cases(seller, dev_rows, query_lang),
        test=make_cases(seller, test_rows, query_lang),
        note=f"English FAQ ({len(variants)} intents), {query_lang} questions",
        redistributable=query_lang != "ru",
    )


#: Every benchmark, in report order: name -> builder.
BENCHMARKS: dict[str, Callable[[], Benchmark]] = {
    "clinc150": clinc150,
    "banking77-oos": banking77_oos,
    "banking77-oos-raw": lambda: banking77_oos(relabel=False),
    "xsid-en": lambda: xsid("en"),
    "xsid-zh": lambda: xsid("zh"),
    "xsid-ru": lambda: xsid("ru"),
    "xsid-en-faq-zh": lambda: xsid_cross("zh"),
    "xsid-en-faq-ru": lambda: xsid_cross("ru"),
}


#: What a plain run reports: everything but the upstream-label BANKING77-OOS variant.
DEFAULT_BENCHMARKS = tuple(n for n in BENCHMARKS if n != "banking77-oos-raw")


def load_all(names: Iterable[str] | None = None) -> list[Benchmark]:
    """Build the named benchmarks (:data:`DEFAULT_BENCHMARKS` by default), in report order."""
    wanted = list(DEFAULT_BENCHMARKS) if not names else list(names)
    unknown = [n for n in wanted if n not in BENCHMARKS]
    if unknown:
        raise KeyError(f"unknown benchmark(s): {', '.join(unknown)}")
    return [BENCHMARKS[n]() for n in wanted]


# --------------------------------------------------------------------------- writing


def _check_target(directory: Path) -> Path:
    """Refuse to write generated content into the tracked part of the repository."""
    target = directory.resolve()
    if target.is_relative_to(REPO_ROOT) and not target.is_relative_to(OUT_DIR):
        raise ValueError(
            f"{target} is inside the repository: write generated content to a temp "
            f"dir or under {OUT_DIR} (git-ignored); some sources may not be redistributed"
        )
    return target


def _plain(mapping: dict[str, Any]) -> Any:
    """A language map as docs/content-format.md writes it (a bare value for ``*``)."""
    return mapping["*"] if set(mapping) == {"*"} else {k: v for k, v in mapping.items()}


def _yaml(data: Any) -> str:
    """YAML as an admin would write it: keys in order, Cyrillic and CJK kept readable."""
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=1000)


def seller_to_files(seller: Seller, seller_dir: Path) -> None:
    """Write ``seller.yaml``, ``faq.yaml`` and, if it has products, ``products.csv``."""
    seller_dir.mkdir(parents=True, exist_ok=True)
    meta: dict[str, Any] = {
        "name": seller.name,
        "support_chat_id": seller.support_chat_id,
        "languages": list(seller.languages),
    }
    if not seller.topics:
        meta["topics"] = False
    if seller.staff:
        meta["staff"] = list(seller.staff)
    if seller.greeting:
        meta["greeting"] = dict(seller.greeting)
    entries: list[dict[str, Any]] = []
    for entry in seller.entries:
        item: dict[str, Any] = {
            "id": entry.id,
            "questions": _plain({lang: list(qs) for lang, qs in entry.questions.items()}),
            "answer": _plain(dict(entry.answer)),
        }
        if entry.keywords:
            item["keywords"] = list(entry.keywords)
        if entry.handoff:
            item["handoff"] = True
        entries.append(item)
    (seller_dir / "seller.yaml").write_text(_yaml(meta), encoding="utf-8")
    (seller_dir / "faq.yaml").write_text(_yaml({"entries": entries}), encoding="utf-8")
    if seller.products:
        columns: list[str] = []
        for product in seller.products:
            columns.extend(c for c in product.attributes if c not in columns)
        with (seller_dir / "products.csv").open("w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["offer_id", "name", "description", *columns])
            for p in seller.products:
                attrs = [p.attributes.get(c, "") for c in columns]
                writer.writerow([p.offer_id, p.name, p.description, *attrs])


def cases_to_jsonl(cases: Iterable[Case], path: Path) -> None:
    """Write cases as JSON Lines, the format ``faq.evaluate.read_cases`` reads."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        for case in cases:
            obj: dict[str, Any] = {"seller": case.seller, "text": case.text, "expect": case.expect}
            if case.lang:
                obj["lang"] = case.lang
            fh.write(json.dumps(obj, ensure_ascii=False) + "\n")


def write_benchmark(seller: Seller, cases: Iterable[Case], directory: Path) -> Path:
    """Write one (seller, cases) pair in the docs/content-format.md layout.

    Layout: ``DIR/sellers/<seller-id>/{seller.yaml,faq.yaml[,products.csv]}`` and
    ``DIR/cases.jsonl``; then ``sellerdesk faq eval DIR/cases.jsonl --content
    DIR/sellers --json`` evaluates it.

    Raises:
        ValueError: ``directory`` is inside the repository but not under ``bench/out/``.

    Returns:
        The path of ``cases.jsonl``.
    """
    target = _check_target(directory)
    seller_to_files(seller, target / "sellers" / seller.id)
    cases_path = target / "cases.jsonl"
    cases_to_jsonl(cases, cases_path)
    return cases_path


def main(argv: Sequence[str] | None = None) -> int:
    """Write every benchmark (both splits) to disk for the CLI; print the paths."""
    parser = argparse.ArgumentParser(prog="python -m bench.datasets", description=__doc__)
    parser.add_argument("--out", type=Path, default=OUT_DIR / "datasets")
    parser.add_argument("--only", nargs="*", help="benchmark names (default: all)")
    args = parser.parse_args(argv)
    for bench in load_all(args.only):
        for split in SPLITS:
            cases = bench.cases(split)
            path = write_benchmark(bench.seller, cases, args.out / f"{bench.name}-{split}")
            in_scope = sum(c.expect is not None for c in cases)
            print(
                f"{bench.name:16} {split:4} entries={len(bench.seller.entries):3} "
                f"cases={len(cases):5} in_scope={in_scope:5} -> "
                f"sellerdesk faq eval {path} --content {path.parent / 'sellers'} --json"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
