"""seller.yaml: the shop, its staff chat, languages, deadlines and returns
(docs/content-format.md)."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ruamel.yaml.nodes import MappingNode, Node, ScalarNode

from sellerdesk.faq.content.checker import (
    Checker,
    load_yaml,
)
from sellerdesk.faq.content.errors import Problem
from sellerdesk.faq.content.hours import (
    WEEKDAYS,
    HoursError,
    Span,
    WorkingHours,
    parse_days,
    parse_holiday,
    parse_spans,
    span_text,
)
from sellerdesk.faq.content.model import (
    ANY_LANG,
    CLOCKS,
    DEFAULT_BUSINESS_QUIET_MINUTES,
    BusinessLink,
    OzonLink,
    Returns,
    Sla,
    SupportChat,
)

SELLER_REQUIRED = ("name", "support_chat_id", "languages")
SELLER_OPTIONAL = (
    "topics",
    "staff",
    "greeting",
    "sla",
    "returns",
    "timezone",
    "digest_hour",
    "staff_language",
    "support_chats",
    "ozon",
    "telegram_business",
    "hours",
    "holidays",
    "away",
)
#: Languages the bot has its own texts in (cards, buttons, reminders).
BOT_LANGUAGES = ("ru", "en", "zh")
SLA_KEYS = ("first_reply", "remind_after", "escalate_after", "clock")
RETURNS_KEYS = ("decide_within",)
SUPPORT_CHAT_REQUIRED = ("chat_id",)
SUPPORT_CHAT_OPTIONAL = ("languages", "shared")
OZON_REQUIRED = ("client_id", "api_key_env")
OZON_OPTIONAL = ("chats", "questions", "questions_auto")
BUSINESS_REQUIRED = ("account",)
BUSINESS_OPTIONAL = ("quiet_minutes",)
#: A Telegram username (5-32 characters) after an "@".
USERNAME = re.compile(r"^@[A-Za-z][A-Za-z0-9_]{3,31}$")
#: What an environment variable's name may look like.
ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]{0,99}$")
#: Hours of the day a digest may be sent at.
_HOURS = range(24)


def _parse_returns(c: Checker, node: Node) -> Returns:
    keys = c.mapping(node, "returns", (), RETURNS_KEYS)
    default = Returns()
    if keys is None or "decide_within" not in keys:
        return default
    decide = c.duration(keys["decide_within"][1], "returns.decide_within")
    return Returns(decide_within=decide or default.decide_within)


def _parse_timezone(c: Checker, node: Node) -> str | None:
    name = c.string(node, "timezone")
    if name is None:
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        c.problem(
            node, "timezone", f"unknown time zone {name!r}; use an IANA name such as Europe/Moscow"
        )
        return None
    return name


def _parse_staff_language(c: Checker, node: Node, languages: tuple[str, ...]) -> str | None:
    value = c.lang(node, "staff_language")
    if value is None:
        return None
    allowed = tuple(dict.fromkeys((*languages, *BOT_LANGUAGES)))
    if value not in allowed:
        c.problem(node, "staff_language", f"expected one of {', '.join(allowed)}, not {value!r}")
        return None
    return value


def _parse_hour(c: Checker, node: Node) -> int | None:
    value = c.scalar(node) if isinstance(node, ScalarNode) else None
    if isinstance(value, bool) or not isinstance(value, int) or value not in _HOURS:
        c.problem(node, "digest_hour", "expected an hour of the day, 0 to 23")
        return None
    return value


def _parse_sla(c: Checker, node: Node) -> Sla:
    keys = c.mapping(node, "sla", (), SLA_KEYS)
    default = Sla()
    if keys is None:
        return default
    first_reply = default.first_reply
    if "first_reply" in keys:
        first_reply = c.duration(keys["first_reply"][1], "sla.first_reply") or first_reply
    escalate_after = default.escalate_after
    if "escalate_after" in keys:
        escalate_after = (
            c.duration(keys["escalate_after"][1], "sla.escalate_after") or escalate_after
        )
    remind_after = default.remind_after
    if "remind_after" in keys:
        items = c.sequence(keys["remind_after"][1], "sla.remind_after")
        if items is not None:
            parsed = [c.duration(n, "sla.remind_after") for n in items]
            values = [v for v in parsed if v is not None]
            if values != sorted(values):
                c.problem(keys["remind_after"][1], "sla.remind_after", "list them in order")
            remind_after = tuple(values)
    clock = default.clock
    if "clock" in keys:
        value = c.string(keys["clock"][1], "sla.clock")
        if value is not None and value not in CLOCKS:
            c.problem(
                keys["clock"][1],
                "sla.clock",
                f"expected wall (calendar time) or business (only hours count), not {value!r}",
            )
        elif value is not None:
            clock = value
    return Sla(
        first_reply=first_reply,
        remind_after=remind_after,
        escalate_after=escalate_after,
        clock=clock,
    )


def _parse_hours(c: Checker, key: Node, node: Node) -> tuple[tuple[Span, ...], ...] | None:
    """``hours``: weekday keys to ranges; None when anything is wrong (all reported).

    A day may be given by several keys (``mon-fri`` and ``wed``): their ranges add up
    and must not overlap; a day ``closed`` by one key cannot be open by another."""
    if not isinstance(node, MappingNode) or not node.value:
        c.problem(node, "hours", "expected weekdays and their hours, such as mon-fri: 09:00-18:00")
        return None
    #: weekday -> (span, line, key) of every range given for it
    given: list[list[tuple[Span, int, str]]] = [[] for _ in WEEKDAYS]
    closed: dict[int, tuple[int, str]] = {}
    ok = True
    for key_node, value_node in node.value:
        name = str(key_node.value) if isinstance(key_node, ScalarNode) else "?"
        label = f"hours.{name}"
        line = key_node.start_mark.line + 1
        try:
            days = parse_days(name)
        except HoursError as exc:
            c.problem(key_node, label, str(exc))
            ok = False
            continue
        value = c.string(value_node, label)
        if value is None:
            ok = False
            continue
        try:
            spans = parse_spans(value)
        except HoursError as exc:
            c.problem(value_node, label, str(exc))
            ok = False
            continue
        for day in days:
            weekday = WEEKDAYS[day]
            if not spans:
                if given[day]:
                    _, other_line, other = given[day][0]
                    c.problem(key_node, label, f"{weekday} is open by {other} (line {other_line})")
                    ok = False
                closed.setdefault(day, (line, name))
                continue
            if day in closed:
                other_line, other = closed[day]
                c.problem(key_node, label, f"{weekday} is closed by {other} (line {other_line})")
                ok = False
                continue
            for span in spans:
                for known, other_line, other in given[day]:
                    if span[0] < known[1] and known[0] < span[1]:
                        c.problem(
                            value_node,
                            label,
                            f"{span_text(span)} on {weekday} overlaps {span_text(known)} of "
                            f"{other} (line {other_line})",
                        )
                        ok = False
                given[day].append((span, line, name))
    if not ok:
        return None
    week = tuple(tuple(sorted(span for span, _, _ in day)) for day in given)
    if not any(week):
        c.problem(
            key,
            "hours",
            "every day is closed: staff would never be at work; leave hours out when "
            "they have no fixed hours",
        )
        return None
    return week


def _parse_holidays(c: Checker, node: Node) -> tuple[tuple[date, date], ...] | None:
    items = c.sequence(node, "holidays")
    if items is None:
        return None
    found: list[tuple[date, date]] = []
    for item in items:
        value = c.string(item, "holidays")
        if value is None:
            continue
        try:
            found.append(parse_holiday(value))
        except HoursError as exc:
            c.problem(item, "holidays", str(exc))
    return tuple(found) if len(found) == len(items) else None


def _parse_away(c: Checker, node: Node, languages: tuple[str, ...]) -> dict[str, str] | None:
    away = c.per_language(node, "away", c.string)
    if away is None:
        return None
    if isinstance(node, MappingNode) and languages:
        for key_node, _ in node.value:
            lang = getattr(key_node, "value", None)
            if lang in away and lang != ANY_LANG and lang not in languages:
                c.problem(
                    key_node,
                    f"away.{lang}",
                    f"{lang!r} is not one of the seller's languages ({', '.join(languages)})",
                )
                return None
    return away


def _key_node(node: Node, name: str) -> Node:
    """The key node ``name`` of a mapping (``node`` itself when absent)."""
    if isinstance(node, MappingNode):
        for key_node, _ in node.value:
            if getattr(key_node, "value", None) == name:
                return key_node  # type: ignore[no-any-return]
    return node


def _working_hours(c: Checker, keys: dict[str, tuple[Node, Node]], out: dict[str, Any]) -> None:
    """``hours``, ``holidays``, ``away`` and what ``sla.clock`` needs of them, into ``out``."""
    week = _parse_hours(c, *keys["hours"]) if "hours" in keys else None
    holidays = _parse_holidays(c, keys["holidays"][1]) if "holidays" in keys else ()
    zone = out.get("timezone", "UTC")
    if week is not None and holidays is not None:
        out["hours"] = WorkingHours(week=week, timezone=zone, holidays=holidays)
    elif "hours" not in keys and "holidays" in keys and holidays is not None:
        # Holidays alone: closed on those dates, open around the clock otherwise.
        out["hours"] = WorkingHours.around_the_clock(zone, holidays)
    if "away" in keys:
        away = _parse_away(c, keys["away"][1], out.get("languages", ()))
        if away is not None:
            out["away"] = away
        if "hours" not in keys and "holidays" not in keys:
            c.problem(
                keys["away"][0],
                "away",
                "is told to buyers outside hours: add hours (or holidays), else it is never shown",
            )
    sla = out.get("sla")
    if sla is not None and sla.clock == "business" and "hours" not in keys:
        c.problem(
            _key_node(keys["sla"][1], "clock"),
            "sla.clock",
            "business counts only working hours: add hours (such as mon-fri: "
            "09:00-18:00), or use wall",
        )


def _group_id(c: Checker, node: Node, key: str) -> int | None:
    chat_id = c.integer(node, key)
    if chat_id is not None and chat_id >= 0:
        c.problem(node, key, f"{chat_id} is not a group id: group ids are negative (-100...)")
        return None
    return chat_id


def _parse_support_chats(
    c: Checker, node: Node, main: int | None, languages: tuple[str, ...]
) -> tuple[SupportChat, ...]:
    items = c.sequence(node, "support_chats")
    if items is None:
        return ()
    groups: list[SupportChat] = []
    seen = {main} if main is not None else set()
    for item in items:
        keys = c.mapping(item, "support_chats", SUPPORT_CHAT_REQUIRED, SUPPORT_CHAT_OPTIONAL)
        if keys is None or "chat_id" not in keys:
            continue
        id_node = keys["chat_id"][1]
        chat_id = _group_id(c, id_node, "support_chats.chat_id")
        if chat_id is None:
            continue
        if chat_id in seen:
            where = "support_chat_id" if chat_id == main else "support_chats"
            c.problem(id_node, "support_chats.chat_id", f"{chat_id} is already in {where}")
            continue
        seen.add(chat_id)
        langs: tuple[str, ...] = ()
        if "languages" in keys:
            lang_nodes = c.sequence(keys["languages"][1], "support_chats.languages") or []
            found = [c.lang(n, "support_chats.languages") for n in lang_nodes]
            for lang_node, lang in zip(lang_nodes, found, strict=True):
                if lang is not None and languages and lang not in languages:
                    c.problem(
                        lang_node,
                        "support_chats.languages",
                        f"{lang!r} is not one of the seller's languages "
                        f"({', '.join(languages)}): no case would open here",
                    )
            ok = [x for x in found if x and (not languages or x in languages)]
            langs = tuple(dict.fromkeys(ok))
        shared = False
        if "shared" in keys:
            shared = bool(c.boolean(keys["shared"][1], "support_chats.shared"))
        groups.append(SupportChat(chat_id, langs, shared, id_node.start_mark.line + 1))
    return tuple(groups)


def _parse_ozon(c: Checker, node: Node, line: int) -> OzonLink | None:
    keys = c.mapping(node, "ozon", OZON_REQUIRED, OZON_OPTIONAL)
    if keys is None or any(k not in keys for k in OZON_REQUIRED):
        return None
    id_node = keys["client_id"][1]
    client_id = c.string(id_node, "ozon.client_id")
    if client_id is not None and not client_id.isdigit():
        c.problem(id_node, "ozon.client_id", "expected the Client-Id: digits, as in the cabinet")
        client_id = None
    env_node = keys["api_key_env"][1]
    env = c.string(env_node, "ozon.api_key_env")
    if env is not None and not ENV_NAME.match(env):
        c.problem(
            env_node,
            "ozon.api_key_env",
            "expected the NAME of an environment variable holding the key (such as "
            "OZON_API_KEY_MY_SHOP), never the key itself",
        )
        env = None
    flags = {}
    for flag in OZON_OPTIONAL:
        if flag in keys:
            value = c.boolean(keys[flag][1], f"ozon.{flag}")
            if value is not None:
                flags[flag] = value
    if client_id is None or env is None:
        return None
    return OzonLink(client_id, env, line=line, **flags)


def _parse_business(c: Checker, node: Node, line: int) -> BusinessLink | None:
    keys = c.mapping(node, "telegram_business", BUSINESS_REQUIRED, BUSINESS_OPTIONAL)
    if keys is None or "account" not in keys:
        return None
    account_node = keys["account"][1]
    raw = getattr(account_node, "value", None)
    account: int | str | None = None
    if isinstance(raw, str) and raw.isdigit() and int(raw) > 0:
        account = int(raw)
    elif isinstance(raw, str) and USERNAME.match(raw):
        account = raw[1:].lower()
    else:
        c.problem(
            account_node,
            "telegram_business.account",
            "expected the account's Telegram user id (digits) or its @username",
        )
    quiet = DEFAULT_BUSINESS_QUIET_MINUTES
    if "quiet_minutes" in keys:
        value = c.integer(keys["quiet_minutes"][1], "telegram_business.quiet_minutes")
        if value is not None and not 0 <= value <= 24 * 60:
            c.problem(
                keys["quiet_minutes"][1],
                "telegram_business.quiet_minutes",
                "expected minutes from 0 to 1440 (a day)",
            )
        elif value is not None:
            quiet = value
    if account is None:
        return None
    return BusinessLink(account, quiet, line=line)


def load_seller_file(path: Path, seller_id: str) -> tuple[dict[str, Any], list[Problem]]:
    """Read seller.yaml into the keyword arguments of :class:`Seller` (minus content)."""
    c = Checker(path)
    root = load_yaml(path, c)
    if root is None:
        return {}, c.problems
    keys = c.mapping(root, "", SELLER_REQUIRED, SELLER_OPTIONAL)
    if keys is None:
        return {}, c.problems
    out: dict[str, Any] = {"id": seller_id}
    if "name" in keys:
        out["name"] = c.string(keys["name"][1], "name")
    if "support_chat_id" in keys:
        out["support_chat_id"] = c.integer(keys["support_chat_id"][1], "support_chat_id")
    if "topics" in keys:
        topics = c.boolean(keys["topics"][1], "topics")
        if topics is not None:
            out["topics"] = topics
    if "languages" in keys:
        items = c.sequence(keys["languages"][1], "languages")
        if items is not None:
            langs = [c.lang(n, "languages") for n in items]
            if not items:
                c.problem(keys["languages"][1], "languages", "list at least one language")
            elif len(set(langs)) != len(langs):
                c.problem(keys["languages"][1], "languages", "a language is listed twice")
            out["languages"] = tuple(x for x in langs if x)
    if "staff" in keys:
        items = c.sequence(keys["staff"][1], "staff")
        if items is not None:
            staff = [c.integer(n, "staff") for n in items]
            out["staff"] = tuple(s for s in staff if s is not None)
    if "greeting" in keys:
        greeting = c.per_language(keys["greeting"][1], "greeting", c.string)
        if greeting is not None:
            out["greeting"] = greeting
    if "sla" in keys:
        out["sla"] = _parse_sla(c, keys["sla"][1])
    if "returns" in keys:
        out["returns"] = _parse_returns(c, keys["returns"][1])
    if "timezone" in keys:
        zone = _parse_timezone(c, keys["timezone"][1])
        if zone is not None:
            out["timezone"] = zone
    if "digest_hour" in keys:
        hour = _parse_hour(c, keys["digest_hour"][1])
        if hour is not None:
            out["digest_hour"] = hour
    if "support_chats" in keys:
        out["support_chats"] = _parse_support_chats(
            c, keys["support_chats"][1], out.get("support_chat_id"), out.get("languages", ())
        )
    if "ozon" in keys:
        out["ozon"] = _parse_ozon(c, keys["ozon"][1], keys["ozon"][0].start_mark.line + 1)
    if "telegram_business" in keys:
        out["telegram_business"] = _parse_business(
            c, keys["telegram_business"][1], keys["telegram_business"][0].start_mark.line + 1
        )
    if "staff_language" in keys:
        staff_language = _parse_staff_language(
            c, keys["staff_language"][1], out.get("languages", ())
        )
        if staff_language is not None:
            out["staff_language"] = staff_language
    _working_hours(c, keys, out)
    return out, c.problems


# ------------------------------------------------------------------------------ faq.yaml
