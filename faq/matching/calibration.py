"""Each seller's own yardstick, read from its own FAQ: how high a right match scores.

A cosine of 0.6 means a close paraphrase for one encoder and an unrelated sentence for
another; a dense FAQ of fourteen variants an entry scores every question higher than a
sparse one of four. Thresholds fitted on one seller's numbers therefore answer wrongly on
the next. So every score is read against the seller's own FAQ first:

* **Pseudo-questions.** Each of the FAQ's question variants (a fixed sample of a few
  hundred) is asked as if a buyer wrote it, against the FAQ without that variant. Its
  own entry is the right answer; every other entry is a wrong one, and the best of them
  is what the bot would have matched had the entry not existed (a near-topic question
  the FAQ does not cover).
* **Scales.** Each signal (lexical, each encoder against variants, centroids, answers) is
  expressed in standard deviations above the seller's wrong entries:
  ``z = (raw - mean) / sd``. The fused score of an entry is the weighted mean of its
  signals' z (a plain mean by default: no signal is trusted more than the others before
  it is measured; see ``faq.matching.matcher.ScoringWeights``).
* **References.** The fused score of the right entry and of the best wrong one on the
  pseudo-questions: where a new question's best score falls between the two is what the
  decision weighs (``faq.matching.confidence``), whatever the seller's FAQ looks like.

Products have no variants: their signals are scaled by asking the products' own names
against the rest of the catalog, every other product a wrong one, so a product's score
says how far above the other products of its catalog a question puts it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import tempfile
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import numpy.typing as npt

log = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]

#: At most this many pseudo-questions (a fixed sample of the variants): a few hundred pin
#: the scales down to a few hundredths of a standard deviation, and a 1,000-entry FAQ
#: would otherwise spend seconds at every start.
MAX_PSEUDO_QUESTIONS = 400
#: At most this many products' names are asked against the catalog to scale its signals.
MAX_PSEUDO_PRODUCTS = 200
#: The samples are drawn with this seed, so a seller's calibration is the
#: same at every start (and a test can pin it).
SEED = 20261206
#: With fewer pseudo-questions than this (an FAQ of one or two entries), the defaults
#: below are used instead of the seller's own figures.
MIN_PSEUDO_QUESTIONS = 8
#: A standard deviation is never taken below this (a signal that is the same for every
#: wrong entry would otherwise blow up).
MIN_SD = 1e-3


@dataclass(frozen=True)
class Scale:
    """A mean and a standard deviation: ``z(x) = (x - mean) / sd``."""

    mean: float
    sd: float

    def z(self, x: FloatArray) -> FloatArray:
        out: FloatArray = (x - self.mean) / self.sd
        return out

    @staticmethod
    def of(values: FloatArray) -> Scale | None:
        values = values[np.isfinite(values)]
        if len(values) < 2:
            return None
        return Scale(float(values.mean()), max(float(values.std()), MIN_SD))


#: Used where a seller's FAQ is too small to measure its own (one entry, a handful of
#: variants): the medians over the eleven evaluation sellers (``bench/sellers``) of
#: their own figures, hybrid matcher.
DEFAULT_RIGHT = Scale(2.05, 1.12)
DEFAULT_NEAR = Scale(1.75, 0.90)
DEFAULT_ENTRY_SCALES: Mapping[str, Scale] = MappingProxyType(
    {
        "lexical": Scale(0.049, 0.077),
        "use": Scale(0.305, 0.117),
        "use_centroid": Scale(0.299, 0.121),
        "e5": Scale(0.833, 0.031),
        "e5_centroid": Scale(0.852, 0.027),
        "e5_answer": Scale(0.807, 0.028),
    }
)
DEFAULT_PRODUCT_SCALES: Mapping[str, Scale] = MappingProxyType(
    {"lexical": Scale(0.039, 0.067), "use": Scale(0.308, 0.146), "e5": Scale(0.877, 0.024)}
)


@dataclass(frozen=True)
class Calibration:
    """One seller's scales and references (see the module docstring)."""

    #: Entry signal name -> the scale of its wrong entries.
    entry: Mapping[str, Scale] = field(default_factory=lambda: MappingProxyType({}))
    #: Product signal name -> the scale of product scores for questions about the shop.
    product: Mapping[str, Scale] = field(default_factory=lambda: MappingProxyType({}))
    #: Fused score of the right entry on the pseudo-questions.
    right: Scale = DEFAULT_RIGHT
    #: Fused score of the best wrong entry on the pseudo-questions.
    near: Scale = DEFAULT_NEAR
    #: Pseudo-questions the figures come from (0: defaults).
    questions: int = 0
    #: The seller's own odds that its best candidate is right, from the pseudo-questions
    #: (asked with their entry, and again without it: a near-topic question the FAQ
    #: does not cover): intercept and weights of ``top`` and ``margin`` (see
    #: ``faq.matching.confidence.features``). None: too few pseudo-questions.
    odds: tuple[float, float, float] | None = None

    def own_logit(self, top: float, margin: float) -> float:
        """The seller's own log-odds that a best candidate this far above its best wrong
        entries, with this lead, is right (0 without a fit)."""
        if self.odds is None:
            return 0.0
        a, b_top, b_margin = self.odds
        return a + b_top * top + b_margin * margin

    def entry_z(self, name: str, raw: FloatArray) -> FloatArray:
        """A signal's raw entry scores in standard deviations above the wrong entries
        (the typical scale where the seller's own could not be measured)."""
        scale = self.entry.get(name) or DEFAULT_ENTRY_SCALES.get(name) or Scale(0.0, 1.0)
        return scale.z(raw)

    def product_z(self, name: str, raw: FloatArray) -> FloatArray:
        scale = self.product.get(name) or DEFAULT_PRODUCT_SCALES.get(name) or Scale(0.0, 1.0)
        return scale.z(raw)

    def display(self, fused: float) -> float:
        """A fused score as 0-100 for people: 50 halfway between the best wrong entry and
        the right one of the pseudo-questions, about 12 at the first, 88 at the second."""
        spread = max(self.right.mean - self.near.mean, 0.25)
        mid = (self.right.mean + self.near.mean) / 2.0
        x = 4.0 * (fused - mid) / spread
        return 100.0 / (1.0 + math.exp(-x)) if x > -700 else 0.0


def wrong_scale(raw: FloatArray, labels: npt.NDArray[np.int64]) -> Scale | None:
    """The scale of the wrong entries' scores: every cell but the row's own entry."""
    wrong = raw.copy()
    wrong[np.arange(len(labels)), labels] = np.nan
    return Scale.of(wrong.ravel())


def fuse(z: Mapping[str, FloatArray], weights: Mapping[str, float]) -> FloatArray:
    """The weighted mean of the signals' z per cell, over the signals that have a value
    there (NaN where none has: an entry without variants or answers)."""
    total: FloatArray | None = None
    weight_sum: FloatArray | None = None
    for name, values in z.items():
        w = weights.get(name, 0.0)
        if w <= 0:
            continue
        present = np.isfinite(values)
        part = np.where(present, values * w, 0.0)
        mass = present * w
        total = part if total is None else total + part
        weight_sum = mass if weight_sum is None else weight_sum + mass
    if total is None or weight_sum is None:
        raise ValueError("no signal to fuse")
    with np.errstate(invalid="ignore", divide="ignore"):
        out: FloatArray = np.where(weight_sum > 0, total / np.maximum(weight_sum, 1e-12), np.nan)
    return out


def references(
    fused: FloatArray, labels: npt.NDArray[np.int64], own_known: npt.NDArray[np.bool_]
) -> tuple[Scale, Scale]:
    """The fused score of the right entry (rows whose entry kept variants to match) and
    of the best wrong entry (every row), on the pseudo-questions."""
    rows = np.arange(len(labels))
    right = fused[rows, labels][own_known]
    wrong = fused.copy()
    wrong[rows, labels] = np.nan
    with np.errstate(invalid="ignore"):
        near = np.where(np.isfinite(wrong), wrong, -np.inf).max(axis=1)
    return (
        Scale.of(right) or DEFAULT_RIGHT,
        Scale.of(near[np.isfinite(near)]) or DEFAULT_NEAR,
    )


#: L2 penalty of a seller's own odds (:func:`fit_odds`): a hundred pseudo-questions fit
#: three numbers, but an FAQ of near-duplicate variants would otherwise fit a cliff.
ODDS_L2 = 1.0


def top_and_margin(
    fused: FloatArray, near: Scale
) -> tuple[npt.NDArray[np.int64], FloatArray, FloatArray]:
    """Per row: the best column, and the best score and its lead over the runner-up in
    units of ``near`` (as ``faq.matching.confidence.features`` computes them)."""
    filled = np.where(np.isfinite(fused), fused, -np.inf)
    order = np.argsort(-filled, axis=1)
    rows = np.arange(len(fused))
    first = filled[rows, order[:, 0]]
    second = filled[rows, order[:, 1]] if fused.shape[1] > 1 else first - 3.0 * near.sd
    second = np.where(np.isfinite(second), second, first - 3.0 * near.sd)
    top: FloatArray = (first - near.mean) / near.sd
    margin: FloatArray = np.maximum(first - second, 0.0) / near.sd
    best: npt.NDArray[np.int64] = order[:, 0].astype(np.int64)
    return best, top, margin


def fit_odds(
    fused: FloatArray, labels: npt.NDArray[np.int64], own_known: npt.NDArray[np.bool_], near: Scale
) -> tuple[float, float, float] | None:
    """The seller's own odds (see ``Calibration.odds``): each pseudo-question whose entry
    kept a variant in its language is asked with its entry (right when it ranks first)
    and without it (never right); a logistic regression on ``top`` and ``margin``."""
    rows = np.flatnonzero(own_known)
    if len(rows) < MIN_PSEUDO_QUESTIONS or fused.shape[1] < 3:
        return None
    with_own = fused[rows]
    best, top1, margin1 = top_and_margin(with_own, near)
    right = best == labels[rows]
    without = with_own.copy()
    without[np.arange(len(rows)), labels[rows]] = np.nan
    _, top2, margin2 = top_and_margin(without, near)
    x = np.column_stack([np.r_[top1, top2], np.r_[margin1, margin2]])
    y = np.r_[right, np.zeros(len(rows), dtype=bool)].astype(np.float64)
    ok = np.isfinite(x).all(axis=1)
    x, y = x[ok], y[ok]
    if y.sum() < 2 or (1 - y).sum() < 2:
        return None
    x1 = np.column_stack([np.ones(len(x)), x])
    penalty = np.array([0.0, ODDS_L2, ODDS_L2])
    beta = np.zeros(3)
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-np.clip(x1 @ beta, -700, 700)))
        grad = x1.T @ (p - y) + penalty * beta
        hess = (x1 * (p * (1 - p))[:, None]).T @ x1 + np.diag(penalty)
        step = np.linalg.solve(hess, grad)
        beta -= step
        if np.abs(step).max() < 1e-9:
            break
    return float(beta[0]), float(beta[1]), float(beta[2])


# ---------------------------------------------------------------------------- on disk

#: Bump when what a calibration holds or how it is computed changes.
FORMAT = 1
#: Calibration files not written for this long are deleted when another is written (a
#: content version that is gone does not come back).
KEEP_DAYS = 30


def content_key(parts: Iterable[Any]) -> str:
    """A digest of everything a calibration depends on (texts, weights, versions)."""
    digest = hashlib.blake2b(digest_size=16)
    digest.update(f"{FORMAT}:{SEED}:{MAX_PSEUDO_QUESTIONS}:{MAX_PSEUDO_PRODUCTS}".encode())
    for part in parts:
        digest.update(b"\x1e")
        digest.update(repr(part).encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


def _scale_json(scale: Scale) -> list[float]:
    return [scale.mean, scale.sd]


def to_json(calibration: Calibration) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "entry": {k: _scale_json(v) for k, v in calibration.entry.items()},
        "product": {k: _scale_json(v) for k, v in calibration.product.items()},
        "right": _scale_json(calibration.right),
        "near": _scale_json(calibration.near),
        "questions": calibration.questions,
        "odds": list(calibration.odds) if calibration.odds is not None else None,
    }


def from_json(data: dict[str, Any]) -> Calibration:
    """The calibration :func:`to_json` wrote. Raises ValueError on anything else."""
    try:
        if data["format"] != FORMAT:
            raise ValueError(f"calibration format {data['format']}, expected {FORMAT}")
        odds = data["odds"]
        return Calibration(
            MappingProxyType({k: Scale(*map(float, v)) for k, v in data["entry"].items()}),
            MappingProxyType({k: Scale(*map(float, v)) for k, v in data["product"].items()}),
            Scale(*map(float, data["right"])),
            Scale(*map(float, data["near"])),
            int(data["questions"]),
            (float(odds[0]), float(odds[1]), float(odds[2])) if odds is not None else None,
        )
    except (KeyError, TypeError, IndexError) as exc:
        raise ValueError(f"not a calibration: {exc}") from exc


def load(folder: Path | None, key: str) -> Calibration | None:
    """A calibration saved under ``key``, or None (missing or unreadable: logged)."""
    if folder is None:
        return None
    path = folder / f"calibration-{key}.json"
    if not path.is_file():
        return None
    try:
        calibration = from_json(json.loads(path.read_text(encoding="utf-8")))
        os.utime(path)  # in use: not deleted as unused
        return calibration
    except (OSError, ValueError) as exc:
        log.warning("ignoring unreadable calibration %s (%s)", path, exc)
        return None


def save(folder: Path | None, key: str, calibration: Calibration) -> None:
    """Save atomically; calibrations unused for ``KEEP_DAYS`` are deleted meanwhile."""
    if folder is None:
        return
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp.json")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(to_json(calibration), fh)
        os.replace(tmp, folder / f"calibration-{key}.json")
        cutoff = time.time() - KEEP_DAYS * 86400
        for old in folder.glob("calibration-*.json"):
            if old.stat().st_mtime < cutoff:
                old.unlink(missing_ok=True)
    except OSError as exc:
        log.warning("cannot write calibration in %s (%s)", folder, exc)
