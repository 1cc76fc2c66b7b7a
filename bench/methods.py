"""The matchers a benchmark compares: the naive baseline and, when it exists, the real one.

``faq.matcher`` is imported lazily, at run time, so the harness works (with the
baseline alone) before the real matcher lands, and reports why it was skipped.
"""

from __future__ import annotations

import importlib
import traceback
from dataclasses import dataclass

from bench.baseline import NaiveMatcher
from faq.decision import MatcherFactory

BASELINE = "baseline"
MATCHER = "Matcher"


@dataclass(frozen=True)
class Method:
    """A named way to build a matcher for a seller."""

    name: str
    factory: MatcherFactory


def load_matcher() -> tuple[MatcherFactory | None, str]:
    """``faq.matcher.Matcher`` if it imports, else None and a note saying why not.

    A missing module is expected (not written yet); any other import error is a
    bug in it, so its last line is passed on rather than hidden.
    """
    try:
        module = importlib.import_module("faq.matcher")
    except ModuleNotFoundError as exc:
        if exc.name == "faq.matcher":
            return None, "faq.matcher does not exist yet: baseline only"
        return None, f"faq.matcher failed to import: {exc!r}"
    except Exception as exc:  # a broken module must not stop the baseline run
        last = traceback.format_exception_only(exc)[-1].strip()
        return None, f"faq.matcher failed to import: {last}"
    factory = getattr(module, "Matcher", None)
    if factory is None:
        return None, "faq.matcher has no Matcher class: baseline only"
    return factory, "faq.matcher.Matcher"


def available_methods() -> tuple[list[Method], list[str]]:
    """The baseline, then the real matcher if importable; plus notes for the report."""
    methods = [Method(BASELINE, NaiveMatcher)]
    factory, note = load_matcher()
    if factory is not None:
        methods.append(Method(MATCHER, factory))
    return methods, [note]
