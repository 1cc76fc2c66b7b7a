"""Matching speed and index cost on synthetic sellers of growing size.

For FAQs of 100 / 1,000 / 10,000 entries (no products), and for 1,000 entries
with catalogs of 1,000 / 10,000 / 100,000 products, it measures for the real
matcher (``faq.matching.matcher.Matcher``, when importable) and the naive baseline:

* **build_s**: wall time to construct the matcher (the index), no tracing on; for the
  hybrid matcher with an empty embedding cache, so it includes encoding every FAQ
  variant and product; **rebuild_s** is a second build with the cache warm (the
  index alone: what a restart costs);
* **index_MiB / peak_MiB**: memory allocated by the construction and still held
  when it returns, and the peak during it, both measured with ``tracemalloc`` in a
  second, separate build (tracing slows code down, so it is not timed). It counts
  the Python heap and numpy buffers; memory that C extensions take from ``malloc``
  directly (e.g. rapidfuzz internals) is not seen. The RSS growth of the timed build
  is in ``--json`` only (``rss_delta_MiB``): freed memory is reused, so it is rough;
* **p50 / p99 / mean** time of one ``decide`` call, single thread, over a few hundred
  questions (after a short warm-up), and the speed-up of the matcher over the
  baseline (baseline p50 / matcher p50).

The content is generated deterministically (``random.Random(seed)``): FAQ
entries recombine CLINC150 and BANKING77 ``train`` utterances (~10 variants per
entry); products are Russian clothing-like rows (name, description, attributes,
offer ids ``SKU-000123``). Questions are held-out utterances (CLINC150 / BANKING77
``test``) plus Russian product questions when there is a catalog.

    python -m bench.speed [--queries N] [--no-memory] [--json FILE]

Longer than ~500 lines on purpose: the synthetic sellers, each measurement and its
baseline in one command.
"""

from __future__ import annotations

import argparse
import csv
import gc
import json
import os
import random
import tempfile
import time
import tracemalloc
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.datasets import data_dir, label_to_id
from bench.methods import BASELINE, HYBRID, Method, available_methods
from bench.report import fmt, markdown_table, write_json
from sellerdesk.faq.content.model import Entry, Product, Seller

#: FAQ sizes timed without products.
FAQ_SIZES = (100, 1_000, 10_000)
#: Catalog sizes timed with :data:`CATALOG_FAQ_SIZE` entries.
CATALOG_SIZES = (1_000, 10_000, 100_000)
CATALOG_FAQ_SIZE = 1_000
#: Questions timed per seller and method ("a few hundred").
QUERIES = 300
#: Share of product questions among the queries of a seller with a catalog.
PRODUCT_QUERY_SHARE = 0.2
#: The baseline scores every choice with token_set_ratio (~100k choices take about
#: 0.1 s a question), so on sellers with more choices than this it is timed on the
#: first NAIVE_CAPPED_QUERIES questions only (the table says so).
NAIVE_CAP_ABOVE_CHOICES = 50_000
NAIVE_CAPPED_QUERIES = 50
#: Odd messages buyers send, timed among the questions: empty, emoji only, a pasted
#: letter of 4,000 characters, mixed scripts, a bare order number, a link.
BAD_INPUTS: tuple[str, ...] = (
    "",
    "😀😀😀🔥",
    ("Здравствуйте, пишу по поводу заказа, который пришёл вчера. " * 70)[:4000],
    "мой order 订单 где? where is 我的 заказ??",
    "12345678-0001",
    "https://www.ozon.ru/product/platye-midi-1234567890/?sh=abc",
)
#: The hybrid matcher is timed on sellers of at most this many variants + products: its
#: first build encodes every text with both encoders (about 12 ms each with e5), so the
#: 10,000-entry FAQ (100,000 variants) and the 100,000-product catalog would take an
#: hour each; the fuzzy matcher and the baseline are timed on every seller.
HYBRID_MAX_CHOICES = 25_000
#: Untimed calls before timing (first-call costs: lazy imports, caches).
WARMUP = 3
#: Targets of the hybrid matcher at 1,000 entries + 10,000 products: p99 of a question,
#: the first build (every text encoded), a restart (vectors and calibration cached).
HYBRID_P99_TARGET_MS = 60.0
COLD_TARGET_S = 300.0
RESTART_TARGET_S = 3.0
#: Target for building the largest seller's index (1,000 entries + 100k products).
BUILD_TARGET_S = 10.0
SEED = 1234
VARIANTS_PER_ENTRY = 10


# --------------------------------------------------------------------------- source text


@dataclass(frozen=True)
class Pools:
    """Public utterances to build synthetic content from."""

    #: intent -> train utterances (CLINC150 and BANKING77, intents kept apart).
    train: dict[str, list[str]]
    #: test utterances, never used in an FAQ: the questions.
    held_out: list[str]


def load_pools() -> Pools:
    """CLINC150 and BANKING77 train utterances by intent, and their test utterances."""
    root = data_dir()
    with (root / "clinc150" / "data_full.json").open(encoding="utf-8") as fh:
        clinc: dict[str, list[list[str]]] = json.load(fh)
    train: dict[str, list[str]] = {}
    for text, label in clinc["train"]:
        train.setdefault(f"clinc-{label}", []).append(text)
    held_out = [text for text, _ in clinc["test"]]
    for name, target in (("train.csv", train), ("test.csv", None)):
        with (root / "banking77" / name).open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                if target is None:
                    held_out.append(row["text"])
                else:
                    target.setdefault(f"bank-{row['category']}", []).append(row["text"])
    return Pools(train=train, held_out=held_out)


# --------------------------------------------------------------------------- FAQ

_TOPIC_ADJ = "winter summer kids' gift sale new wholesale express premium second-hand".split()
_TOPIC_NOUN = "order jacket dress parcel sneakers account card coupon return delivery".split()
_CONNECTORS = ("for the", "about the", "regarding my", "with my", "on the")
_OPENERS = ("hi, ", "hello! ", "quick question: ", "please tell me ", "excuse me, ")


def synthetic_faq(n: int, pools: Pools, rng: random.Random) -> tuple[Entry, ...]:
    """``n`` FAQ entries of ~10 variants each, recombined from train utterances.

    Entry ``i`` takes intent ``i mod 227``; once every intent is used, later rounds
    add a topic ("the winter jacket") to the variants so entries stay distinct
    while sharing vocabulary, as near-duplicate entries of a large FAQ do. Some
    variants get an opener or are joined with a second utterance of the intent.
    """
    intents = sorted(pools.train)
    topics = [f"{a} {b}" for a in _TOPIC_ADJ for b in _TOPIC_NOUN]
    topic_order = {intent: rng.sample(topics, len(topics)) for intent in intents}
    entries: list[Entry] = []
    for i in range(n):
        intent = intents[i % len(intents)]
        round_ = i // len(intents)
        topic = topic_order[intent][round_ % len(topics)] if round_ else ""
        pool = pools.train[intent]
        variants: list[str] = []
        for text in rng.sample(pool, min(VARIANTS_PER_ENTRY, len(pool))):
            roll = rng.random()
            if roll < 0.15:
                text = f"{text.rstrip('?.!')}, {rng.choice(pool).lower()}"
            elif roll < 0.35:
                text = rng.choice(_OPENERS) + text[:1].lower() + text[1:]
            if topic and rng.random() < 0.8:
                text = f"{text.rstrip('?.!')} {rng.choice(_CONNECTORS)} {topic}?"
            variants.append(text)
        entry_id = f"{label_to_id(intent)}-{round_:02d}"
        keywords = (topic.split()[-1],) if topic and rng.random() < 0.2 else ()
        entries.append(
            Entry(
                id=entry_id,
                questions={"en": tuple(variants)},
                answer={"en": f"Placeholder answer for {entry_id}."},
                keywords=keywords,
            )
        )
    return tuple(entries)


# --------------------------------------------------------------------------- products

#: Category, grammatical gender (m, f, n, pl): adjectives agree with it.
_CATEGORIES = (
    ("Платье", "n"),
    ("Футболка", "f"),
    ("Куртка", "f"),
    ("Джинсы", "pl"),
    ("Худи", "n"),
    ("Свитер", "m"),
    ("Пальто", "n"),
    ("Юбка", "f"),
    ("Рубашка", "f"),
    ("Брюки", "pl"),
    ("Кроссовки", "pl"),
    ("Шапка", "f"),
    ("Пуховик", "m"),
    ("Кардиган", "m"),
    ("Сарафан", "m"),
    ("Толстовка", "f"),
    ("Шорты", "pl"),
    ("Блузка", "f"),
    ("Костюм", "m"),
    ("Жилет", "m"),
)
_GENDER_INDEX = {"m": 0, "f": 1, "n": 2, "pl": 3}


def _forms(stem: str, hard: bool = True) -> tuple[str, str, str, str]:
    """Adjective forms m/f/n/pl from a stem (``черн`` -> черный, черная, черное, черные)."""
    if hard:
        return (stem + "ый", stem + "ая", stem + "ое", stem + "ые")
    return (stem + "ий", stem + "ая", stem + "ое", stem + "ие")


_COLORS = {
    "черный": _forms("черн"),
    "белый": _forms("бел"),
    "серый": _forms("сер"),
    "бежевый": _forms("бежев"),
    "синий": ("синий", "синяя", "синее", "синие"),
    "красный": _forms("красн"),
    "зеленый": _forms("зелен"),
    "розовый": _forms("розов"),
    "коричневый": _forms("коричнев"),
    "изумрудный": _forms("изумрудн"),
    "молочный": _forms("молочн"),
    "графитовый": _forms("графитов"),
}
_STYLES = (
    _forms("базов"),
    _forms("утепленн"),
    _forms("приталенн"),
    _forms("трикотажн"),
    ("льняной", "льняная", "льняное", "льняные"),
    _forms("хлопков"),
    _forms("джинсов"),
    _forms("вязан"),
    _forms("стеган"),
    ("оверсайз", "оверсайз", "оверсайз", "оверсайз"),
)
_AUDIENCE = (
    ("женский", "женская", "женское", "женские"),
    ("мужской", "мужская", "мужское", "мужские"),
    _forms("детск", hard=False),
    ("унисекс", "унисекс", "унисекс", "унисекс"),
)
_BRANDS = (
    "Lumi",
    "UrbanFox",
    "Северный ветер",
    "Nordline",
    "Mira",
    "Snowberry",
    "Tayga",
    "Velvetta",
    "Moss&Co",
    "Pixel Kids",
    "Арктика",
    "Bamboo Lab",
    "Лиса и Ко",
    "Seven Hills",
    "Oblako",
    "Redwood",
)
_MATERIALS = (
    "100% хлопок",
    "95% хлопок, 5% эластан",
    "100% полиэстер",
    "70% вискоза, 30% полиэстер",
    "55% лен, 45% хлопок",
    "80% шерсть, 20% полиамид",
    "60% хлопок, 40% полиэстер (футер трехнитка)",
    "верх: нейлон; утеплитель: биопух 250 г/м²",
)
_SIZES = ("XS, S, M, L", "42, 44, 46, 48", "S, M, L, XL, XXL", "36, 37, 38, 39, 40", "110-128")
_SEASONS = ("Лето", "Демисезон", "Зима", "Всесезон")
_COUNTRIES = ("Китай", "Россия", "Турция", "Узбекистан", "Киргизия", "Вьетнам")
_FIT = (
    "Свободный крой, садится в размер.",
    "Маломерит на полразмера — берите на размер больше.",
    "Большемерит, ориентируйтесь на таблицу размеров.",
    "Посадка приталенная, ткань хорошо тянется.",
)
_DETAILS = (
    "Длина изделия {n} см.",
    "Есть карманы на молнии.",
    "Капюшон съемный, на кнопках.",
    "Подкладка из мягкого флиса.",
    "Не мнется и не просвечивает.",
    "Плотность ткани {d} г/м².",
    "Швы обработаны оверлоком, нитки не торчат.",
)
_CARE = (
    "Стирка при 30 °C, не отбеливать.",
    "Деликатная стирка, сушить в расправленном виде.",
    "Только сухая чистка.",
)


def synthetic_products(n: int, rng: random.Random) -> tuple[Product, ...]:
    """``n`` clothing products with Russian names, descriptions and attributes."""
    products: list[Product] = []
    for i in range(n):
        category, gender = rng.choice(_CATEGORIES)
        g = _GENDER_INDEX[gender]
        color = rng.choice(list(_COLORS))
        brand = rng.choice(_BRANDS)
        parts = [category, rng.choice(_AUDIENCE)[g], rng.choice(_STYLES)[g], brand]
        name = " ".join(parts) + f", {_COLORS[color][g]}"
        if rng.random() < 0.4:
            code = "".join(ch for ch in brand if ch.isascii() and ch.isalpha())[:2].upper()
            name += f", арт. {code or 'RU'}-{rng.randint(100, 9999)}"
        details = rng.sample(_DETAILS, 2)
        description = " ".join(
            [
                rng.choice(_FIT),
                *(t.format(n=rng.randint(40, 120), d=rng.randint(12, 40) * 10) for t in details),
                rng.choice(_CARE),
            ]
        )
        attributes = {
            "Цвет": color,
            "Размеры": rng.choice(_SIZES),
            "Материал": rng.choice(_MATERIALS),
            "Сезон": rng.choice(_SEASONS),
            "Страна производства": rng.choice(_COUNTRIES),
        }
        products.append(Product(f"SKU-{i:06d}", name, description, attributes))
    return tuple(products)


def product_question(product: Product, rng: random.Random) -> str:
    """A Russian buyer question about one product (by offer id, name or its words)."""
    words = product.name.split(",")[0].split()
    short = " ".join(words[:1] + words[3:])  # category + brand, e.g. "Куртка UrbanFox"
    size = rng.choice(product.attributes["Размеры"].split(", "))
    templates = (
        f"{product.offer_id} есть в размере {size}?",
        f"Из чего сделан артикул {product.offer_id}?",
        f"Какой состав у {short.lower()}?",
        f"{product.name.split(',')[0]} маломерит?",
        f"подскажите, {product.name.lower()} — какая длина?",
        f"{short} {product.attributes['Цвет']} в наличии?",
    )
    return rng.choice(templates)


# --------------------------------------------------------------------------- sellers


@dataclass(frozen=True)
class SpeedCase:
    """One synthetic seller and the questions timed on it."""

    label: str
    seller: Seller
    queries: tuple[str, ...]

    @property
    def choices(self) -> int:
        """Question variants plus products: what the baseline scores per question."""
        variants = sum(len(e.all_questions()) for e in self.seller.entries)
        return variants + len(self.seller.products)


def make_case(
    entries: int, products: int, pools: Pools, n_queries: int, seed: int = SEED
) -> SpeedCase:
    """A seller of ``entries`` FAQ entries and ``products`` products, and its questions."""
    rng = random.Random(f"{seed}-{entries}-{products}")
    faq = synthetic_faq(entries, pools, rng)
    catalog = synthetic_products(products, rng)
    n_product = round(n_queries * PRODUCT_QUERY_SHARE) if catalog else 0
    queries = rng.sample(pools.held_out, n_queries - n_product)
    queries += [product_question(rng.choice(catalog), rng) for _ in range(n_product)]
    # Odd messages are timed with the rest (each must get a decision within the p99).
    queries = queries[: max(n_queries - len(BAD_INPUTS), 0)] + list(BAD_INPUTS)
    rng.shuffle(queries)  # a capped run still sees every kind
    seller = Seller(
        id=f"synthetic-{entries}-{products}",
        name=f"Synthetic seller ({entries} entries, {products} products)",
        support_chat_id=-1,
        languages=("ru", "en"),
        entries=faq,
        products=catalog,
    )
    label = f"{entries:,} entries" + (f" + {products:,} products" if products else "")
    return SpeedCase(label, seller, tuple(queries))


# --------------------------------------------------------------------------- measuring


def _rss_bytes() -> int:
    """Resident set size of this process (Linux /proc; 0 where unavailable)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def _percentile(sorted_ms: Sequence[float], q: float) -> float:
    index = min(len(sorted_ms) - 1, max(0, round(q * (len(sorted_ms) - 1))))
    return sorted_ms[index]


def measure(case: SpeedCase, method: Method, n_queries: int, memory: bool) -> dict[str, Any]:
    """Build the matcher (timed), run the questions (timed), then rebuild under tracemalloc."""
    gc.collect()
    rss_before = _rss_bytes()
    started = time.perf_counter()
    matcher = method.factory(case.seller)
    build_s = time.perf_counter() - started
    rss_delta = _rss_bytes() - rss_before
    queries = case.queries[:n_queries]
    for text in queries[:WARMUP]:
        matcher.decide(text)
    timings: list[float] = []
    for text in queries:
        t0 = time.perf_counter()
        matcher.decide(text)
        timings.append((time.perf_counter() - t0) * 1000.0)
    del matcher
    # A second build: for the hybrid matcher the embedding cache is warm now, so this
    # is the index alone and build_s minus this is the time spent encoding.
    gc.collect()
    started = time.perf_counter()
    rebuilt = method.factory(case.seller)
    rebuild_s = time.perf_counter() - started
    del rebuilt
    timings.sort()
    row: dict[str, Any] = {
        "seller": case.label,
        "entries": len(case.seller.entries),
        "products": len(case.seller.products),
        "method": method.name,
        "build_s": round(build_s, 3),
        "rebuild_s": round(rebuild_s, 3),
        "index_MiB": None,
        "peak_MiB": None,
        "rss_delta_MiB": round(rss_delta / 2**20, 1),
        "queries": len(timings),
        "p50_ms": round(_percentile(timings, 0.5), 3),
        "p99_ms": round(_percentile(timings, 0.99), 3),
        "mean_ms": round(sum(timings) / len(timings), 3),
    }
    if memory:
        gc.collect()
        tracemalloc.start()
        try:
            matcher = method.factory(case.seller)
            gc.collect()
            current, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        del matcher
        row["index_MiB"] = round(current / 2**20, 1)
        row["peak_MiB"] = round(peak / 2**20, 1)
    return row


def run(n_queries: int, memory: bool, methods: Sequence[Method]) -> list[dict[str, Any]]:
    """Measure every method on every synthetic seller; baseline rows get the speed-up."""
    pools = load_pools()
    shapes = [(n, 0) for n in FAQ_SIZES] + [(CATALOG_FAQ_SIZE, p) for p in CATALOG_SIZES]
    rows: list[dict[str, Any]] = []
    for entries, products in shapes:
        case = make_case(entries, products, pools, n_queries)
        by_method: dict[str, dict[str, Any]] = {}
        for method in methods:
            if method.name == HYBRID and case.choices > HYBRID_MAX_CHOICES:
                continue
            limit = n_queries
            if method.name == BASELINE and case.choices > NAIVE_CAP_ABOVE_CHOICES:
                limit = min(n_queries, NAIVE_CAPPED_QUERIES)
            row = measure(case, method, limit, memory)
            row["choices"] = case.choices
            by_method[method.name] = row
            rows.append(row)
        base = by_method.get(BASELINE)
        for name, row in by_method.items():
            if name != BASELINE and base is not None:
                row["speedup_p50"] = round(base["p50_ms"] / max(row["p50_ms"], 1e-6), 1)
                row["speedup_mean"] = round(base["mean_ms"] / max(row["mean_ms"], 1e-6), 1)
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    """Time every method on the synthetic sellers and print the markdown table."""
    parser = argparse.ArgumentParser(prog="python -m bench.speed", description=__doc__)
    parser.add_argument("--queries", type=int, default=QUERIES, help="questions per seller")
    parser.add_argument("--no-memory", action="store_true", help="skip the tracemalloc build")
    parser.add_argument("--json", type=Path, metavar="FILE", help="write the raw numbers here")
    args = parser.parse_args(argv)
    methods, notes = available_methods(cache_dir=Path(tempfile.mkdtemp(prefix="sellerdesk-speed-")))
    started = time.perf_counter()
    rows = run(args.queries, not args.no_memory, methods)
    elapsed = time.perf_counter() - started

    headers = [
        "seller",
        "method",
        "build_s",
        "rebuild_s",
        "index_MiB",
        "peak_MiB",
        "p50_ms",
        "p99_ms",
        "mean_ms",
        "queries",
        "speed-up (p50)",
    ]
    table = []
    for r in rows:
        speedup = f"×{r['speedup_p50']:g}" if "speedup_p50" in r else ""
        capped = " (capped)" if r["queries"] < args.queries else ""
        digits = {"build_s": 2, "rebuild_s": 2, "index_MiB": 1, "peak_MiB": 1}
        cells = [fmt(r[h], digits.get(h, 3)) for h in headers[2:9]]
        table.append([r["seller"], r["method"], *cells, f"{r['queries']}{capped}", speedup])
    print("## Matching speed (single thread, one decide() per question)\n")
    print(markdown_table(headers, table, "ll" + "r" * (len(headers) - 2)))
    print(
        "\n- build_s: constructing the matcher, untraced (hybrid: with an empty embedding "
        "cache, so encoding included); rebuild_s: the same again with the cache warm "
        "(hybrid: the index alone). index_MiB / peak_MiB: tracemalloc, "
        "memory held after construction / peak during it (Python heap + numpy; not "
        "memory C extensions allocate themselves)."
    )
    print(
        f"- baseline capped at {NAIVE_CAPPED_QUERIES} questions on sellers with more than "
        f"{NAIVE_CAP_ABOVE_CHOICES:,} choices (variants + products); speed-up = baseline p50 "
        "/ matcher p50."
    )
    print(
        f"- hybrid timed on sellers of at most {HYBRID_MAX_CHOICES:,} variants + products "
        "(its first build encodes every text with both encoders)."
    )
    for note in notes:
        print(f"- note: {note}")
    for r in rows:
        if r["method"] == HYBRID and r["entries"] == CATALOG_FAQ_SIZE and r["products"]:
            print(
                f"- hybrid at {r['entries']:,} entries + {r['products']:,} products: p99 "
                f"{r['p99_ms']:.1f} ms (target {HYBRID_P99_TARGET_MS:g}), first build with "
                f"every text encoded {r['build_s']:.0f} s (target {COLD_TARGET_S:g}), "
                f"restart {r['rebuild_s']:.2f} s (target {RESTART_TARGET_S:g})"
            )

    largest = [r for r in rows if r["products"] == max(CATALOG_SIZES) and r["method"] != BASELINE]
    parts = [
        f"{r['method']} builds 1,000 entries + {max(CATALOG_SIZES):,} products in "
        f"{r['build_s']:.2f} s ({'within' if r['build_s'] <= BUILD_TARGET_S else 'OVER'} "
        f"the {BUILD_TARGET_S:g} s target), p50 {r['p50_ms']:.2f} ms, p99 {r['p99_ms']:.2f} ms"
        for r in largest
    ]
    if not parts:
        parts = ["baseline only (no sellerdesk.faq.matching.matcher.Matcher)"]
    print(f"\nsummary ({elapsed:.0f} s): " + "; ".join(parts))
    if args.json:
        write_json(
            args.json,
            {
                "queries": args.queries,
                "methods": [m.name for m in methods],
                "notes": notes,
                "build_target_s": BUILD_TARGET_S,
                "rows": rows,
            },
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
