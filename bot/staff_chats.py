"""Staff groups the bot cannot work in right now, and why: what the desk tells buyers and
the admin chat about them.

Filled by the check at start and after each reload (``telegram_io.chat_check``) and by
the outbox sender when Telegram refuses a staff group's row for a reason that concerns
the group itself (the bot was removed, may not send). Two kinds of problem:

* **blocking** (``missing``, ``cannot_send``): nothing reaches the group. A new case is
  still opened and its rows wait in the outbox, in order, tried again every few minutes;
  the buyer hears that the case is saved and will reach the shop, not that it did.
* **degraded** (``no_topic_rights``, ``not_forum``): cases go to the group without
  topics, each message answered by reply (as with ``topics: false``).

Each process keeps its own view (the registry is memory): a problem is found again by
the next check or the next refused row, and cleared by the first row the group takes.
The admin chat hears of each problem once per kind and chat an hour (deduplicated in
the outbox, so two processes never both say it) and hears when a blocking one is gone.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from sellerdesk.bot.desk import outgoing
from sellerdesk.bot.i18n.texts import text
from sellerdesk.faq.content.model import Seller
from sellerdesk.storage.types import utcnow

if TYPE_CHECKING:  # the context holds the registry: imported for annotations only
    from sellerdesk.bot.desk.cases import DeskContext


class Problem(StrEnum):
    MISSING = "missing"  #: no such chat, or the bot is not (any more) in it
    CANNOT_SEND = "cannot_send"  #: a member that may not send messages
    NO_TOPIC_RIGHTS = "no_topic_rights"  #: a forum, the bot not allowed to manage topics
    NOT_FORUM = "not_forum"  #: topics wanted, the group has them off


BLOCKING = frozenset({Problem.MISSING, Problem.CANNOT_SEND})

#: What Telegram says when a row fails because of the chat itself (lower case).
CHAT_GONE = (
    "chat not found",
    "bot was kicked",
    "bot is not a member",
    "group chat was deactivated",
    "group chat was upgraded",
)
CANNOT_SEND = (
    "not enough rights to send",
    "have no rights to send",
    "chat_write_forbidden",
    "need administrator rights",
)


def refused_for_the_chat(error: str) -> Problem | None:
    """The blocking problem Telegram's ``error`` (for a send into a group) names, if any."""
    lowered = error.lower()
    if any(words in lowered for words in CHAT_GONE):
        return Problem.MISSING
    if any(words in lowered for words in CANNOT_SEND):
        return Problem.CANNOT_SEND
    return None


@dataclass(frozen=True)
class ChatProblem:
    chat_id: int
    problem: Problem
    #: Telegram's own words, for the log.
    detail: str = ""

    @property
    def blocking(self) -> bool:
        return self.problem in BLOCKING


class StaffChats:
    """The staff groups with a problem now (thread-safe: handlers run in threads)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._problems: dict[int, ChatProblem] = {}

    def problem(self, chat_id: int) -> ChatProblem | None:
        with self._lock:
            return self._problems.get(chat_id)

    def blocked(self, chat_id: int) -> bool:
        """Whether nothing can reach ``chat_id`` now."""
        found = self.problem(chat_id)
        return found is not None and found.blocking

    def report(self, found: ChatProblem) -> bool:
        """Note a problem; True when it is new (or a different kind than before)."""
        with self._lock:
            before = self._problems.get(found.chat_id)
            self._problems[found.chat_id] = found
        return before is None or before.problem is not found.problem

    def clear(self, chat_id: int) -> ChatProblem | None:
        """The group works (a row went through, a check passed): forget its problem and
        return it, if it had one."""
        with self._lock:
            return self._problems.pop(chat_id, None)

    def replace(self, checked: set[int], found: list[ChatProblem]) -> list[ChatProblem]:
        """The result of a check of the ``checked`` groups: their problems become
        ``found``; returns the problems that were there before and are gone."""
        now = {p.chat_id: p for p in found}
        with self._lock:
            gone = [p for c, p in self._problems.items() if c in checked and c not in now]
            for chat_id in checked:
                self._problems.pop(chat_id, None)
            self._problems.update(now)
        return gone


def tell_admins(
    session: Session,
    ctx: DeskContext,
    found: ChatProblem,
    now: datetime | None = None,
) -> None:
    """Queue the admin chat's note about a problem (once per chat, kind and hour)."""
    if ctx.admin_chat_id is None or ctx.admin_chat_id == found.chat_id:
        return
    now = now or utcnow()
    lang = ctx.admin_language
    note = text(
        "admin_staff_chat_problem",
        lang,
        chat=str(found.chat_id),
        shops=_shops(ctx, found.chat_id),
        problem=text(f"staff_chat_{found.problem.value}", lang),
    )
    _to_admins(session, ctx, note, f"{found.chat_id}:{found.problem.value}:{now:%Y%m%d%H}", now)


def tell_admins_fixed(
    session: Session, ctx: DeskContext, chat_id: int, now: datetime | None = None
) -> None:
    """Queue the admin chat's note that a blocked group works again."""
    if ctx.admin_chat_id is None or ctx.admin_chat_id == chat_id:
        return
    now = now or utcnow()
    note = text(
        "admin_staff_chat_fixed",
        ctx.admin_language,
        chat=str(chat_id),
        shops=_shops(ctx, chat_id),
    )
    _to_admins(session, ctx, note, f"{chat_id}:fixed:{now:%Y%m%d%H%M}", now)


def tell_admins_foreign(
    session: Session,
    ctx: DeskContext,
    seller: Seller,
    chat_id: int,
    others: list[Seller],
    now: datetime | None = None,
) -> None:
    """Queue the admin chat's note that a seller's ``support_chats`` names another
    seller's staff group without ``shared: true`` (the desk does not use it)."""
    if ctx.admin_chat_id is None:
        return
    now = now or utcnow()
    note = text(
        "admin_staff_chat_foreign",
        ctx.admin_language,
        chat=str(chat_id),
        shop=seller.name,
        shops=", ".join(o.name for o in others),
    )
    _to_admins(session, ctx, note, f"{seller.id}:{chat_id}:foreign:{now:%Y%m%d}", now)


def _to_admins(session: Session, ctx: DeskContext, note: str, key: str, now: datetime) -> None:
    assert ctx.admin_chat_id is not None
    outgoing.send_text(
        session,
        chat_id=ctx.admin_chat_id,
        text=note,
        side=outgoing.Side.ADMIN,
        dedupe_key=f"staff-chat:{key}",
        now=now,
    )


def _shops(ctx: DeskContext, chat_id: int) -> str:
    return ", ".join(s.name for s in ctx.sellers_of_chat(chat_id)) or "?"
