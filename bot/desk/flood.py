"""Flood control for buyers: notice a flood, tell the buyer once, drop nothing.

A buyer who sends dozens of messages a minute is not refused: every message is
still handled (relayed to the case, or put to the FAQ), because a lost message is
worse than a slow one. What flood control adds is one polite notice per window,
so the buyer knows their messages are kept while the outbox sender, which
respects Telegram's limits, relays them at the pace Telegram allows.

Counting is in memory, per process: a flood arrives through one webhook or polling
process at a time in practice, and the worst a split count does is delay the
notice. The notice itself is deduplicated in the outbox per buyer and window, so
two processes never both send it.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

#: Length of the counting window. A minute matches how Telegram words its own
#: per-group limit (about 20 messages a minute), which is what a flood runs into.
FLOOD_WINDOW_S = 60.0
#: Messages a buyer may send in one window before it counts as a flood. Twenty a
#: minute is more than anyone types by hand (albums are a few messages each and fit
#: too), and it is Telegram's per-group pace: beyond it, relays to the topic queue up.
FLOOD_LIMIT = 20
#: A burst: more than this many messages within ``BURST_S`` seconds ("и ещё..." typed
#: line by line). Not a flood to be told about, but each line is not a question either.
BURST_LIMIT = 5
BURST_S = 3.0
#: Buyers whose counters are kept at most; the oldest idle ones go first. Bounds the
#: memory a swarm of one-message buyers could take.
MAX_TRACKED_BUYERS = 10_000


class FloodGate:
    """Counts each buyer's messages in a sliding window; says when to send the notice."""

    def __init__(
        self,
        limit: int = FLOOD_LIMIT,
        window_s: float = FLOOD_WINDOW_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.limit = limit
        self.window_s = window_s
        self._clock = clock
        self._seen: dict[int, deque[float]] = {}
        self._noticed: dict[int, float] = {}
        # Wall-clock time, not monotonic: the window number must agree across processes.
        # Desk methods run in worker threads (Database.run), several at once.
        self._lock = threading.Lock()

    def hit(self, buyer_id: int) -> int | None:
        """Count one message from ``buyer_id``.

        Returns:
            None normally; when this message makes a flood and the buyer has not been
            told in the last window, the number of the window (for deduplicating the
            notice across processes).
        """
        now = self._clock()
        with self._lock:
            seen = self._seen.pop(buyer_id, None) or deque()
            self._seen[buyer_id] = seen  # re-inserted: dict order is least recently active
            seen.append(now)
            while seen and seen[0] <= now - self.window_s:
                seen.popleft()
            self._trim()
            if len(seen) <= self.limit:
                return None
            last = self._noticed.get(buyer_id)
            if last is not None and now - last < self.window_s:
                return None
            self._noticed[buyer_id] = now
            return int(now // self.window_s)

    def flooding(self, buyer_id: int) -> bool:
        """Whether ``buyer_id`` is writing faster than a person reads: more than the
        limit in the window, or more than :data:`BURST_LIMIT` in :data:`BURST_S`."""
        now = self._clock()
        with self._lock:
            seen = self._seen.get(buyer_id)
            if not seen:
                return False
            if len(seen) > self.limit:
                return True
            recent = sum(1 for at in reversed(seen) if at > now - BURST_S)
            return recent > BURST_LIMIT

    def _trim(self) -> None:
        while len(self._seen) > MAX_TRACKED_BUYERS:
            oldest = next(iter(self._seen))
            del self._seen[oldest]
            self._noticed.pop(oldest, None)


#: New cases one Telegram user may open in :data:`CASE_WINDOW_S`. Buyers with several
#: orders open a case each, and a closed case is reopened by replying to it; four an
#: hour is more than that takes, and stops "ask, /forget_me, ask" from opening a
#: topic each time.
CASE_LIMIT = 4
CASE_WINDOW_S = 3600.0


class CaseGate:
    """Counts the new cases each Telegram user opens (by Telegram id, not the buyer's
    row: ``/forget_me`` makes a new row, not a new person). Memory only: per process,
    forgotten at restart, each user's times kept at most a window."""

    def __init__(
        self,
        limit: int | None = None,
        window_s: float = CASE_WINDOW_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.limit = CASE_LIMIT if limit is None else limit
        self.window_s = window_s
        self._clock = clock
        self._opened: dict[int, deque[float]] = {}
        self._lock = threading.Lock()

    def take(self, telegram_id: int) -> float:
        """Count a new case for ``telegram_id`` and return 0, or, over the limit, count
        nothing and return the seconds until one more is allowed."""
        now = self._clock()
        with self._lock:
            opened = self._opened.pop(telegram_id, None) or deque()
            while opened and opened[0] <= now - self.window_s:
                opened.popleft()
            if len(opened) >= self.limit:
                self._opened[telegram_id] = opened
                return opened[0] + self.window_s - now
            opened.append(now)
            self._opened[telegram_id] = opened  # re-inserted: least recently active first
            while len(self._opened) > MAX_TRACKED_BUYERS:
                del self._opened[next(iter(self._opened))]
            return 0.0
