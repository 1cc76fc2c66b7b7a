"""The stats chart: a valid PNG for real and empty periods, labels in the language asked
for, gaps where days have no data; ``sellerdesk stats --chart``; ``/stats`` arguments."""

from __future__ import annotations

import asyncio
import math
import struct
import threading
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle
from matplotlib.text import Text
from telegram import Bot as TgBot

from sellerdesk.bot.database import Database
from sellerdesk.bot.reports import charts
from sellerdesk.bot.reports.charts import (
    ChartData,
    DayFigures,
    build_figure,
    chart_language,
    render_chart,
)
from sellerdesk.bot.reports.stats import (
    DEFAULT_CHART_DAYS,
    MAX_CHART_DAYS,
    ChartReply,
    StatsRequest,
    parse_request,
    send_chart,
)
from sellerdesk.bot.settings import Pacing
from sellerdesk.bot.telegram_io.pacing import Pacer
from sellerdesk.cli import main
from sellerdesk.storage.db import make_engine, session_factory, unit_of_work
from sellerdesk.storage.repo import cases, questions, sellers
from tests.e2e.harness import DEMO
from tests.storage.factories import buyer

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
FIRST_DAY = date(2026, 10, 28)


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk (which must come first)."""
    assert data[:8] == PNG_SIGNATURE
    length, kind = struct.unpack(">I4s", data[8:16])
    assert (length, kind) == (13, b"IHDR")
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def busy_month() -> ChartData:
    """30 days: every fifth day without replies, day 7 without questions or cases."""
    days = []
    for i in range(30):
        quiet = i == 7
        days.append(
            DayFigures(
                day=FIRST_DAY + timedelta(days=i),
                cases_opened=0 if quiet else 1 + i % 6,
                questions=0 if quiet else 10 + i,
                deflected=0 if quiet else 5 + i // 2,
                first_reply_median_s=None if quiet or i % 5 == 0 else 1800.0 + 300 * i,
                first_reply_p90_s=None if quiet or i % 5 == 0 else 7200.0 + 900 * i,
            )
        )
    return ChartData("Lotus Wear", days, {1: 1, 3: 2, 4: 5, 5: 12}, 24 * 3600.0)


def empty_month() -> ChartData:
    return ChartData(
        "Lotus Wear", [DayFigures(FIRST_DAY + timedelta(days=i)) for i in range(30)], {}, 86400.0
    )


def texts_of(data: ChartData, lang: str) -> list[str]:
    figure = build_figure(data, lang)
    try:
        return [t.get_text() for t in figure.findobj(Text) if t.get_text()]
    finally:
        figure.clear()


def test_chart_is_a_png_a_phone_shows_well() -> None:
    data = render_chart(busy_month(), "ru")
    width, height = png_size(data)
    assert width == 1000 and 1000 <= height <= 2000
    assert len(data) > 50_000  # four drawn panels, not a blank canvas


def test_an_empty_period_renders_and_says_no_data() -> None:
    data = empty_month()
    assert data.is_empty and not busy_month().is_empty
    png = render_chart(data, "en")
    assert png_size(png)[0] == 1000 and len(png) > 20_000
    assert texts_of(data, "en").count("No data") == 4
    assert "No data" not in texts_of(busy_month(), "en")


def test_labels_follow_the_language() -> None:
    russian = texts_of(busy_month(), "ru")
    assert "«Lotus Wear»: 28.10.2026 – 26.11.2026 (UTC)" in russian
    assert "Новые обращения по дням" in russian
    assert "Оценки: 20, средняя 4.35" in russian
    assert "срок: 24 ч" in russian
    english = texts_of(busy_month(), "en")
    assert "Lotus Wear: 28.10.2026 – 26.11.2026 (UTC)" in english
    assert "Cases opened per day" in english and "deadline: 24 h" in english


def test_the_resolution_figures_stand_under_the_title() -> None:
    figures = replace(busy_month(), faq_resolved=0.784, csat=0.9, rating_response=None, reopened=2)
    english = texts_of(figures, "en")
    line = "FAQ answers resolved: 78% · CSAT: 90% (rated: – of those asked) · reopened: 2"
    assert line in english
    assert any(t.startswith("Вопросы, решённые FAQ: 78%") for t in texts_of(figures, "ru"))
    # Without figures (a chart drawn from counts only) there is no such line.
    assert not any("FAQ answers resolved" in t for t in texts_of(busy_month(), "en"))


def test_chinese_labels_only_with_a_cjk_font(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(charts, "cjk_font", lambda: None)
    assert chart_language("zh") == "en"
    assert "Cases opened per day" in texts_of(busy_month(), "zh")
    monkeypatch.setattr(charts, "cjk_font", lambda: "DejaVu Sans")
    assert chart_language("zh-CN") == "zh"
    assert "每日新开工单" in texts_of(busy_month(), "zh")
    assert chart_language("de") == "en"


def heights(ax: Axes) -> list[float]:
    return [bar.get_height() for bar in ax.patches if isinstance(bar, Rectangle)]


def ys(line: Line2D) -> list[float]:
    return [float(v) for v in np.asarray(line.get_ydata(), dtype=float)]


def test_days_without_data_are_zero_bars_and_gaps() -> None:
    figure = build_figure(busy_month(), "en")
    try:
        cases_panel, share_panel, reply_panel, ratings_panel = figure.axes
        bars = heights(cases_panel)
        assert len(bars) == 30 and bars[7] == 0 and bars[8] == 3
        (shares,) = [ys(x) for x in share_panel.get_lines()]
        assert len(shares) == 30 and math.isnan(shares[7]) and shares[0] == 50.0
        median, p90, deadline = [ys(x) for x in reply_panel.get_lines()]
        assert len(median) == len(p90) == 30
        assert math.isnan(median[5]) and math.isnan(p90[7])
        assert median[1] == pytest.approx((1800 + 300) / 3600)
        assert p90[1] == pytest.approx((7200 + 900) / 3600)
        assert deadline == [24.0, 24.0]
        assert heights(ratings_panel) == [1, 0, 2, 5, 12]
    finally:
        figure.clear()


def test_renders_concurrently_in_threads() -> None:
    expected = {lang: render_chart(busy_month(), lang) for lang in ("ru", "en")}
    results: dict[str, bytes] = {}

    def work(lang: str) -> None:
        results[lang] = render_chart(busy_month(), lang)

    threads = [threading.Thread(target=work, args=(lang,)) for lang in expected]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == expected


def test_parse_request() -> None:
    assert parse_request("") == StatsRequest(None, DEFAULT_CHART_DAYS)
    assert parse_request("7") == StatsRequest(None, 7)
    assert parse_request("Lotus-Wear 14") == StatsRequest("lotus-wear", 14)
    assert parse_request("14 lotus-wear") == StatsRequest("lotus-wear", 14)
    for bad in ("0", str(MAX_CHART_DAYS + 1), "7 7", "a b"):
        assert parse_request(bad) is None, bad


# ---------------------------------------------------------------------- the command line


@pytest.fixture
def desk_db(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    """A migrated database where lotus-wear had two answered cases and a question today."""
    url = f"sqlite:///{tmp_path / 'desk.db'}"
    assert main(["db", "upgrade", "--url", url]) == 0
    capsys.readouterr()
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    engine = make_engine(url)
    with unit_of_work(session_factory(engine)) as session:
        sellers.mark_seller_seen(session, "lotus-wear")
        for index, wait in enumerate((600, 1800)):
            owner = buyer(session, 1000 + index)
            opened, _ = cases.open_case(
                session, buyer_id=owner.id, seller_id="lotus-wear", now=now - timedelta(hours=1)
            )
            cases.record_staff_reply(
                session, opened.id, now - timedelta(hours=1) + timedelta(seconds=wait)
            )
        questions.log_question(
            session, seller_id="lotus-wear", question="q", action="answer", now=now
        )
    engine.dispose()
    return url


def test_stats_chart_writes_the_png(
    desk_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "chart.png"
    args = ["stats", "lotus-wear", "--url", desk_db, "--chart", str(path), "--days", "7"]
    assert main([*args, "--content", str(DEMO), "--lang", "ru"]) == 0
    out = capsys.readouterr().out
    assert f"chart: {path}" in out
    assert "last 7 day(s)" in out and "cases: 2 opened" in out
    assert "median 10m00s, p90 30m00s" in out
    assert png_size(path.read_bytes())[0] == 1000


def test_stats_chart_for_the_only_seller_without_content(
    desk_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "only.png"
    missing = tmp_path / "no-content"
    assert main(["stats", "--url", desk_db, "--chart", str(path), "--content", str(missing)]) == 0
    captured = capsys.readouterr()
    assert "last 30 day(s)" in captured.out and path.stat().st_size > 20_000
    assert "no seller 'lotus-wear'" in captured.err


def test_stats_chart_refuses_what_it_cannot_draw(
    desk_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    engine = make_engine(desk_db)
    with unit_of_work(session_factory(engine)) as session:
        sellers.mark_seller_seen(session, "other-shop")
    engine.dispose()
    path = tmp_path / "chart.png"
    base = ["stats", "--url", desk_db, "--content", str(DEMO)]
    assert main([*base, "--chart", str(path)]) == 2
    assert "for one seller" in capsys.readouterr().err and not path.exists()
    assert main([*base, "lotus-wear", "--chart", str(path), "--days", "0"]) == 2
    assert "--days must be 1 to 365" in capsys.readouterr().err
    unwritable = tmp_path / "missing-dir" / "chart.png"
    assert main([*base, "lotus-wear", "--chart", str(unwritable)]) == 2
    assert "Cannot write the chart" in capsys.readouterr().err


def test_stats_charts_wait_their_turn_in_a_group() -> None:
    """A run of /stats in one group waits under the group's share of Telegram's limits,
    like every other message there."""
    db = Database("sqlite://")
    db.prepare()
    sent: list[int] = []

    class Bot:
        async def send_photo(self, **kwargs: Any) -> SimpleNamespace:
            sent.append(kwargs["chat_id"])
            return SimpleNamespace(message_id=len(sent))

    pacer = Pacer(Pacing(group_rate_per_min=1, group_burst=2))
    reply = ChartReply(-1001234, None, 5, b"png", "stats")

    async def main() -> None:
        for _ in range(2):  # the burst
            assert await send_chart(cast(TgBot, Bot()), db, reply, pacer)
        with pytest.raises(TimeoutError):  # the third waits for the next minute
            await asyncio.wait_for(send_chart(cast(TgBot, Bot()), db, reply, pacer), 0.5)

    asyncio.run(main())
    assert sent == [-1001234, -1001234]
    db.dispose()
