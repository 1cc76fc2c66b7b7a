"""``sellerdesk db upgrade`` and ``sellerdesk stats``: what admins run and read."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from sellerdesk.bot.reports.resolution import duration, percentile
from sellerdesk.cli import main
from sellerdesk.storage.db import make_engine, session_factory, unit_of_work
from sellerdesk.storage.models import QuestionOutcome
from sellerdesk.storage.repo import cases, questions
from tests.storage.factories import T0, buyer


def test_percentile_is_nearest_rank() -> None:
    values = [10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0, 100.0]
    assert percentile(values, 0.5) == 50.0
    assert percentile(values, 0.9) == 90.0
    assert percentile([7.0], 0.9) == 7.0
    assert percentile([], 0.5) is None
    assert (duration(None), duration(42), duration(95), duration(3 * 3600 + 60)) == (
        "-",
        "42s",
        "1m35s",
        "3h01m",
    )


def test_db_upgrade_then_stats(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'desk.db'}"
    assert main(["db", "upgrade", "--url", url]) == 0
    assert "database at revision" in capsys.readouterr().out

    engine = make_engine(url)
    with unit_of_work(session_factory(engine)) as session:
        for index, (reply_after, rating) in enumerate([(60, 5), (600, 3), (None, None)]):
            owner = buyer(session, 1000 + index)
            case, _ = cases.open_case(session, buyer_id=owner.id, seller_id="shop", now=T0)
            if reply_after is not None:
                cases.record_staff_reply(session, case.id, T0 + timedelta(seconds=reply_after))
                cases.close_case(session, case.id, actor="staff:1", now=T0 + timedelta(hours=1))
                assert rating is not None
                cases.rate_case(session, case.id, rating, now=T0 + timedelta(hours=2))
        for action, outcome in [
            ("answer", QuestionOutcome.HELPED),
            ("answer", None),
            ("answer", QuestionOutcome.NOT_HELPED),
            ("handoff", None),
        ]:
            logged = questions.log_question(
                session, seller_id="shop", question="q", action=action, now=T0
            )
            if outcome is not None:
                questions.record_outcome(session, logged.id, outcome)
    engine.dispose()

    assert main(["stats", "shop", "--url", url, "--json"]) == 0
    (figures,) = json.loads(capsys.readouterr().out)
    assert figures["cases_opened"] == 3 and figures["cases_closed"] == 2
    assert figures["cases_open_now"] == 1
    assert (figures["questions"], figures["deflected"], figures["deflection_rate"]) == (4, 2, 0.5)
    assert figures["first_reply_median_s"] == 60.0 and figures["first_reply_p90_s"] == 600.0
    assert figures["ratings"] == {"3": 1, "5": 1} and figures["rating_mean"] == 4.0

    assert main(["stats", "--url", url]) == 0
    out = capsys.readouterr().out
    assert "shop" in out and "deflection 50%" in out and "median 1m00s, p90 10m00s" in out
    assert main(["stats", "nope", "--url", url]) == 2


def test_stats_on_an_unmigrated_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["stats", "--url", f"sqlite:///{tmp_path / 'empty.db'}"]) == 1
    assert "db upgrade" in capsys.readouterr().err
