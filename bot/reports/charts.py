"""The stats chart: one PNG with four panels for a seller and a period.

Cases opened per day (bars); the share of buyer questions the FAQ settled per day
(a line, 0-100 %); the median and 90th-percentile time to the first staff reply of the
cases opened each day, in hours, against the seller's first-reply deadline; and the
ratings 1-5 (bars with counts, the average in the title); under the chart's title, the
period's resolution figures in one line. Every day of the period has
a place on the x axis: a day without cases is a zero bar, a day without questions or
replies a gap in the line.

Rendering uses :class:`matplotlib.figure.Figure` with the Agg canvas directly: no
pyplot, no global figure registry, whatever ``MPLBACKEND`` says, so it is safe in a
worker thread. Labels follow the language asked for (ru, en); Chinese labels need a
CJK font known to matplotlib (see :func:`cjk_font`): without one the chart falls back
to English labels, because the default fonts would draw every Chinese character as an
empty box.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

from matplotlib import font_manager
from matplotlib.axes import Axes
from matplotlib.backend_bases import FigureCanvasBase
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.text import Text
from matplotlib.ticker import MaxNLocator

from sellerdesk.bot.i18n.texts import pick_language, text
from sellerdesk.bot.reports.resolution import share

#: Figure size in inches at :data:`DPI`: 1000 x 1400 px, the width Telegram shows a
#: photo at on a phone, tall enough for four panels one under another.
FIGURE_INCHES = (10.0, 14.0)
DPI = 100
#: Base font size in points: readable when a phone scales the picture down.
FONT_SIZE = 13
#: Most day labels on the x axis; longer periods label every few days.
MAX_DAY_LABELS = 10
#: Families tried for Chinese labels, most common first.
CJK_FAMILIES = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Droid Sans Fallback",
    "AR PL UMing CN",
    "SimHei",
    "Microsoft YaHei",
    "PingFang SC",
)
CASES_COLOR = "#4C72B0"
SHARE_COLOR = "#55A868"
MEDIAN_COLOR = "#4C72B0"
P90_COLOR = "#DD8452"
DEADLINE_COLOR = "#C44E52"
RATING_COLORS = ("#C44E52", "#DD8452", "#CCB974", "#8DBF6A", "#55A868")
#: Margins and gaps of the four panels, in figure fractions (fixed: see build_figure).
GRID = {"left": 0.08, "right": 0.955, "top": 0.93, "bottom": 0.03, "hspace": 0.38}
#: Panel titles: left-aligned, bold, a little larger than the rest.
#: A fixed ``y`` spares matplotlib measuring every tick label to place each title.
TITLE_STYLE: dict[str, Any] = {
    "loc": "left",
    "fontweight": "bold",
    "fontsize": FONT_SIZE + 1,
    "y": 1.02,
}
#: Seconds in an hour: reply times are drawn in hours.
HOUR_S = 3600.0
#: Where the resolution figures' line sits: between the title and the first panel.
HEADLINE_Y = 0.955


@dataclass(frozen=True)
class DayFigures:
    """One UTC day of the period."""

    day: date
    cases_opened: int = 0
    questions: int = 0
    #: Questions settled by the FAQ without a person (see ``storage.repo.questions``).
    deflected: int = 0
    #: Time to the first staff reply of the cases opened that day; None without replies.
    first_reply_median_s: float | None = None
    first_reply_p90_s: float | None = None

    @property
    def deflection_share(self) -> float | None:
        """Share of the day's questions the FAQ settled, in [0, 1]; None without questions."""
        return self.deflected / self.questions if self.questions else None


def rating_mean(ratings: dict[int, int]) -> float | None:
    """The average of ratings given as rating (1-5) -> count; None when there are none."""
    count = sum(ratings.values())
    return sum(r * n for r, n in ratings.items()) / count if count else None


@dataclass(frozen=True)
class ChartData:
    """Everything the chart shows, gathered from the database by ``bot.reports.stats``."""

    shop: str
    #: Every day of the period, oldest first, days without data included.
    days: Sequence[DayFigures]
    #: Rating (1-5) -> how many cases got it in the period.
    ratings: dict[int, int]
    #: The seller's first-reply deadline (seller.yaml ``sla.first_reply``); None: no line.
    first_reply_deadline_s: float | None = None
    #: The period's resolution figures, in one line under the title (None: not known):
    #: the share of settled FAQ answers that resolved the question, CSAT (share of 4-5
    #: ratings), the share of buyers asked who rated, and cases reopened.
    faq_resolved: float | None = None
    csat: float | None = None
    rating_response: float | None = None
    reopened: int | None = None

    @property
    def rating_count(self) -> int:
        return sum(self.ratings.values())

    @property
    def rating_mean(self) -> float | None:
        return rating_mean(self.ratings)

    @property
    def is_empty(self) -> bool:
        """Nothing happened in the period: no case, no question, no rating."""
        return not self.rating_count and not any(d.cases_opened or d.questions for d in self.days)


@cache
def cjk_font() -> str | None:
    """The first CJK font family matplotlib can find, or None (then no Chinese labels)."""
    for family in CJK_FAMILIES:
        try:
            font_manager.findfont(
                font_manager.FontProperties(family=family), fallback_to_default=False
            )
        except ValueError:
            continue
        return family
    return None


def chart_language(lang: str | None) -> str:
    """The language of the chart's labels: ``lang`` if the fonts can draw it, else English."""
    picked = pick_language(lang)
    if picked == "zh" and cjk_font() is None:
        return "en"
    return picked


def _hours(seconds: float | None) -> float:
    return math.nan if seconds is None else seconds / HOUR_S


def _no_data(ax: Axes, lang: str) -> None:
    ax.text(
        0.5,
        0.5,
        text("chart_no_data", lang),
        transform=ax.transAxes,
        ha="center",
        va="center",
        color="#888888",
        fontsize=FONT_SIZE + 3,
    )


def _day_axis(ax: Axes, days: Sequence[DayFigures]) -> None:
    """Day labels (``dd.mm``) on an axis of day indexes, at most MAX_DAY_LABELS of them."""
    step = max(1, math.ceil(len(days) / MAX_DAY_LABELS))
    ticks = list(range(len(days) - 1, -1, -step))[::-1]  # always label the last day
    ax.set_xticks(ticks, [f"{days[i].day:%d.%m}" for i in ticks])
    ax.set_xlim(-0.6, max(len(days) - 0.4, 0.6))
    ax.grid(axis="y", alpha=0.3)


def _cases_panel(ax: Axes, data: ChartData, lang: str) -> None:
    counts = [d.cases_opened for d in data.days]
    ax.bar(range(len(counts)), counts, color=CASES_COLOR, width=0.8)
    ax.set_title(text("chart_cases", lang), **TITLE_STYLE)
    ax.set_ylim(0, max([*counts, 1]) * 1.15)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    if not any(counts):
        _no_data(ax, lang)


def _share_panel(ax: Axes, data: ChartData, lang: str) -> None:
    shares = [d.deflection_share for d in data.days]
    percents = [math.nan if s is None else 100 * s for s in shares]
    ax.plot(range(len(percents)), percents, color=SHARE_COLOR, marker="o", linewidth=2)
    ax.set_title(text("chart_deflection", lang), **TITLE_STYLE)
    ax.set_ylim(-3, 103)
    ax.set_yticks([0, 25, 50, 75, 100], ["0%", "25%", "50%", "75%", "100%"])
    if all(s is None for s in shares):
        _no_data(ax, lang)


def _reply_panel(ax: Axes, data: ChartData, lang: str) -> None:
    median = [_hours(d.first_reply_median_s) for d in data.days]
    p90 = [_hours(d.first_reply_p90_s) for d in data.days]
    xs = range(len(data.days))
    ax.plot(
        xs, median, color=MEDIAN_COLOR, marker="o", linewidth=2, label=text("chart_median", lang)
    )
    ax.plot(xs, p90, color=P90_COLOR, marker="s", linewidth=2, label=text("chart_p90", lang))
    top = max([v for v in (*median, *p90) if not math.isnan(v)], default=0.0)
    if data.first_reply_deadline_s is not None:
        deadline = data.first_reply_deadline_s / HOUR_S
        label = text("chart_deadline", lang, hours=f"{deadline:g}")
        ax.axhline(deadline, color=DEADLINE_COLOR, linestyle="--", linewidth=2, label=label)
        top = max(top, deadline)
    ax.set_ylim(0, (top or 1.0) * 1.35)  # room for the legend above the lines
    ax.set_title(text("chart_reply", lang), **TITLE_STYLE)
    ax.legend(loc="upper left", ncols=3, fontsize=FONT_SIZE - 2, framealpha=0.9)
    if all(math.isnan(v) for v in median):
        _no_data(ax, lang)


def _ratings_panel(ax: Axes, data: ChartData, lang: str) -> None:
    stars = [1, 2, 3, 4, 5]
    counts = [data.ratings.get(r, 0) for r in stars]
    bars = ax.bar(stars, counts, color=RATING_COLORS, width=0.7)
    ax.bar_label(bars, labels=[str(n) for n in counts], padding=3, fontsize=FONT_SIZE)
    ax.set_xticks(stars, [f"{r}★" for r in stars])
    ax.set_ylim(0, max([*counts, 1]) * 1.25)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(axis="y", alpha=0.3)
    mean = data.rating_mean
    title = (
        text("chart_ratings_mean", lang, mean=f"{mean:.2f}", count=str(data.rating_count))
        if mean is not None
        else text("chart_ratings", lang)
    )
    ax.set_title(title, **TITLE_STYLE)
    if mean is None:
        _no_data(ax, lang)


def _title(data: ChartData, lang: str) -> str:
    first = data.days[0].day if data.days else None
    last = data.days[-1].day if data.days else None
    period = f"{first:%d.%m.%Y} – {last:%d.%m.%Y} (UTC)" if first and last else ""
    return text("chart_title", lang, shop=data.shop, period=period)


def _headline(data: ChartData, lang: str) -> str:
    return text(
        "chart_headline",
        lang,
        resolved=share(data.faq_resolved, "–"),
        csat=share(data.csat, "–"),
        response=share(data.rating_response, "–"),
        reopened=str(data.reopened),
    )


def _use_family(figure: Figure, family: str) -> None:
    """Draw every text of ``figure`` in ``family`` (digits and symbols fall back to
    DejaVu Sans). Set per text, not through rcParams, which are global to the process."""
    for item in figure.findobj(Text):
        item.set_fontfamily([family, "DejaVu Sans"])


def build_figure(data: ChartData, lang: str | None = None) -> Figure:
    """The chart of ``data`` as a figure on an Agg canvas, labelled in ``lang`` (see
    :func:`chart_language`). The caller clears it when done."""
    lang = chart_language(lang)
    figure = Figure(figsize=FIGURE_INCHES, dpi=DPI)
    FigureCanvasAgg(figure)  # the Agg canvas, whatever MPLBACKEND says
    # Fixed margins: an automatic layout would measure every label in an extra pass.
    cases, share, reply, ratings = figure.subplots(4, 1, gridspec_kw=GRID)
    for panel, draw in ((cases, _cases_panel), (share, _share_panel), (reply, _reply_panel)):
        draw(panel, data, lang)
        _day_axis(panel, data.days)
    _ratings_panel(ratings, data, lang)
    for panel in (cases, share, reply, ratings):
        panel.tick_params(labelsize=FONT_SIZE)
    figure.suptitle(_title(data, lang), fontsize=FONT_SIZE + 4, fontweight="bold")
    if data.reopened is not None:
        figure.text(0.5, HEADLINE_Y, _headline(data, lang), ha="center", fontsize=FONT_SIZE)
    family = cjk_font() if lang == "zh" else None
    if family is not None:
        _use_family(figure, family)
    return figure


def render_chart(data: ChartData, lang: str | None = None) -> bytes:
    """The chart of ``data`` as PNG bytes, labelled in ``lang`` (see :func:`chart_language`).

    Blocking and CPU-bound (a few hundred milliseconds): the bot calls it in a worker
    thread. A period with no data still renders, saying so in each panel.
    """
    figure = build_figure(data, lang)
    try:
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", pil_kwargs={"compress_level": 3})
        return buffer.getvalue()
    finally:
        release(figure)


def release(figure: Figure) -> None:
    """Free what ``figure`` holds now rather than at the next garbage collection: its
    panels and its pixel buffer (several MB). Cheaper than ``Figure.clear``, which
    would build fresh empty panels only to throw them away."""
    for axes in list(figure.axes):
        figure.delaxes(axes)
    FigureCanvasBase(figure)  # replaces the Agg canvas, which keeps the pixels
