"""Pacing of what the sender sends, below Telegram's flood limits.

Telegram allows a bot about 30 messages a second in all, about one a second to one
private chat (short bursts pass) and about 20 a minute to one group, all topics of a
supergroup together. Going over earns a 429 with ``retry_after``, sometimes of
minutes, for the chat or the whole bot. The sender therefore paces itself before
Telegram has to: every call takes a token from the bot-wide bucket and one from its
chat's bucket (a private chat's or a group's, by the sign of the chat id), waiting
until both have one. A 429 empties the chat's bucket until ``retry_after`` has
passed.

Buckets live in memory: each process paces its own sends. With N processes sending
for one bot (sharing one database), each sender counts the live ones from their
heartbeats (``storage.repo.senders``) and paces at a Nth of the bot-wide and group
limits (:meth:`Pacer.share`). A private chat's pace stays whole: its messages go out
one after another whichever process sends them, and about one a second is a soft
limit there.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace

from sellerdesk.bot.settings import Pacing

#: Chats whose bucket is kept at most; full buckets (idle chats) are dropped beyond it.
MAX_TRACKED_CHATS = 10_000
#: The bot-wide bucket holds this many seconds of sends: small, so that any one second
#: stays near the rate, and at least one send.
GLOBAL_BURST_S = 0.1
#: Tokens short of one that still count as one: after waiting exactly as long as
#: :meth:`TokenBucket.wait` said, float rounding may leave 0.9999999999.
_ROUNDING = 1e-9


class TokenBucket:
    """``capacity`` sends at once, refilled at ``rate`` a second; times from a clock."""

    __slots__ = ("capacity", "rate", "tokens", "updated")

    def __init__(self, rate: float, capacity: float, now: float) -> None:
        self.rate = rate
        self.capacity = capacity
        self.tokens = capacity
        self.updated = now

    def _refill(self, now: float) -> None:
        if now > self.updated:
            self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
            self.updated = now

    def wait(self, now: float) -> float:
        """Seconds until a token is there (0 when one is)."""
        self._refill(now)
        return 0.0 if self.tokens >= 1 - _ROUNDING else (1 - self.tokens) / self.rate

    def take(self, now: float) -> None:
        self._refill(now)
        self.tokens -= 1

    def retune(self, rate: float, capacity: float, now: float) -> None:
        """New limits from ``now`` on (tokens earned so far at the old rate are kept,
        up to the new capacity)."""
        self._refill(now)
        self.rate = rate
        self.capacity = capacity
        self.tokens = min(self.tokens, capacity)

    def hold(self, now: float, seconds: float) -> None:
        """No token for ``seconds`` (Telegram said "retry after")."""
        self._refill(now)
        self.tokens = min(self.tokens, -seconds * self.rate)

    def full(self, now: float) -> bool:
        self._refill(now)
        return self.tokens >= self.capacity - _ROUNDING


def _global_burst(pacing: Pacing) -> float:
    return max(1.0, pacing.global_rate * GLOBAL_BURST_S)


def global_refill(pacing: Pacing) -> float:
    """Sends a second the bot-wide bucket refills: the rate less the burst, so that no
    one second holds more than ``global_rate`` (27 + 3 = Telegram's 30)."""
    return max(pacing.global_rate - _global_burst(pacing), pacing.global_rate / 2)


class Pacer:
    """The sender's token buckets: one for the bot, one per chat."""

    def __init__(
        self,
        pacing: Pacing,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        #: The bot's limits, and this process's part of them (see :meth:`share`).
        self.limits = pacing
        self.pacing = pacing
        self.senders = 1
        self.clock = clock
        self.sleep = sleep
        self.bot = TokenBucket(global_refill(pacing), _global_burst(pacing), clock())
        self.chats: dict[int, TokenBucket] = {}

    def share(self, senders: int) -> None:
        """Pace at a ``senders``-th of the bot-wide and group limits: that many
        processes send for the bot now (1: all of them). Buckets in use change at once."""
        senders = max(1, senders)
        if senders == self.senders:
            return
        self.senders = senders
        whole = self.limits
        self.pacing = replace(
            whole,
            global_rate=whole.global_rate / senders,
            group_rate_per_min=whole.group_rate_per_min / senders,
            group_burst=max(1, whole.group_burst // senders),
        )
        now = self.clock()
        self.bot.retune(global_refill(self.pacing), _global_burst(self.pacing), now)
        group_rate = self.pacing.group_rate_per_min / 60
        for chat_id, bucket in self.chats.items():
            if chat_id < 0:
                bucket.retune(group_rate, self.pacing.group_burst, now)

    def _chat(self, chat_id: int, now: float) -> TokenBucket:
        bucket = self.chats.get(chat_id)
        if bucket is None:
            if len(self.chats) >= MAX_TRACKED_CHATS:
                self._forget_idle(now)
            if chat_id > 0:  # a user's private chat
                bucket = TokenBucket(self.pacing.chat_rate, self.pacing.chat_burst, now)
            else:  # groups and supergroups (and channels) have negative ids
                rate = self.pacing.group_rate_per_min / 60
                bucket = TokenBucket(rate, self.pacing.group_burst, now)
            self.chats[chat_id] = bucket
        return bucket

    def _forget_idle(self, now: float) -> None:
        for chat_id in [c for c, bucket in self.chats.items() if bucket.full(now)]:
            del self.chats[chat_id]

    def wait(self, chat_id: int) -> float:
        """Seconds until a send to ``chat_id`` is allowed (0: now)."""
        now = self.clock()
        return max(self.bot.wait(now), self._chat(chat_id, now).wait(now))

    def try_take(self, chat_id: int) -> bool:
        """Take the tokens of one send to ``chat_id`` if both buckets have one."""
        now = self.clock()
        chat = self._chat(chat_id, now)
        if self.bot.wait(now) > 0 or chat.wait(now) > 0:
            return False
        self.bot.take(now)
        chat.take(now)
        return True

    async def acquire(self, chat_id: int) -> None:
        """Wait until a send to ``chat_id`` is allowed and take its tokens.

        The check and the take happen with no suspension between them, so concurrent
        senders in one event loop never overdraw a bucket.
        """
        while not self.try_take(chat_id):
            await self.sleep(self.wait(chat_id))

    def hold(self, chat_id: int, seconds: float) -> None:
        """Telegram answered 429 for ``chat_id``: send nothing there for ``seconds``."""
        now = self.clock()
        self._chat(chat_id, now).hold(now, seconds)
