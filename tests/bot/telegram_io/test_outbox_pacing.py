"""Pacing of the outbox sender: Telegram's limits kept on a fake clock.

The pacer's clock and sleep are fake (a sleep moves the clock on), so minutes of
Telegram time pass in milliseconds; the sender around it is the real one, on an
in-memory database, with a fake bot that records when (on the fake clock) each call
was made.

Longer than ~500 lines on purpose: the fake clock and bot are shared by every pacing
case.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import random
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any, TypeVar, cast

import pytest
from telegram import Bot
from telegram.error import RetryAfter

from sellerdesk.bot.database import Database
from sellerdesk.bot.desk.answers import FaqAnswers
from sellerdesk.bot.desk.cases import DeskContext
from sellerdesk.bot.desk.outgoing import Side, send_text
from sellerdesk.bot.settings import Pacing, SettingsError, load_pacing, load_settings
from sellerdesk.bot.telegram_io.outbox import OutboxSender
from sellerdesk.bot.telegram_io.pacing import GLOBAL_BURST_S, Pacer, TokenBucket, global_refill
from sellerdesk.storage.models import OutboxMessage, OutboxStatus
from sellerdesk.storage.repo import outbox

#: The sender's context where no row belongs to a case or a seller.
NO_DESK = DeskContext(faq=cast(FaqAnswers, None), alias_key=b"")

T = TypeVar("T")
#: Event loop rounds the fake clock lets pass before it moves.
SETTLE_ROUNDS = 20
GROUP = -1001000000001
OTHER_GROUP = -1001000000002
BUYERS = [5001, 5002, 5003]
#: Slow enough that every limit binds within a few dozen messages.
PACING = Pacing(global_rate=5, chat_rate=1, chat_burst=3, group_rate_per_min=20, group_burst=3)
#: The bot-wide rate out of the way, so that the chats' own limits bind.
CHATS_BIND = Pacing(global_rate=1000, chat_rate=1, chat_burst=3, group_rate_per_min=20)


class FakeClock:
    """Virtual time: :meth:`sleep` waits until :meth:`drive` moves the clock to its
    end, which it does only once everything runnable has run (as a real clock would
    not move between a token taken and the call made right after it)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + max(seconds, 0.0), next(self._order), done))
        await done

    async def drive(self) -> None:
        """Run beside the code under test; cancel at the end."""
        while True:
            for _ in range(SETTLE_ROUNDS):
                await asyncio.sleep(0)
            if not self._sleepers:
                await asyncio.sleep(0.001)  # real work elsewhere (database threads)
                continue
            when, _, done = heapq.heappop(self._sleepers)
            self.now = max(self.now, when)
            done.set_result(None)


async def driven(clock: FakeClock, work: Awaitable[T]) -> T:
    driver = asyncio.create_task(clock.drive())
    try:
        return await work
    finally:
        driver.cancel()


def most_in_window(times: list[float], window: float) -> int:
    """The most sends in any closed window of ``window`` seconds."""
    times = sorted(times)
    best, start = 0, 0
    for end, t in enumerate(times):
        while t - times[start] > window + 1e-9:
            start += 1
        best = max(best, end - start + 1)
    return best


def assert_within(pacing: Pacing, sends: list[tuple[float, int]]) -> None:
    """No window of any length from 1 s to 2 min holds more sends than the buckets
    allow: the burst plus what refills in the window."""
    by_chat: dict[int, list[float]] = defaultdict(list)
    for when, chat in sends:
        by_chat[chat].append(when)
    everything = [when for when, _ in sends]
    global_burst = max(1.0, pacing.global_rate * GLOBAL_BURST_S)
    # No second holds more than the bot-wide rate, its burst included.
    assert most_in_window(everything, 1.0) <= pacing.global_rate
    for window in (1.0, 2.0, 5.0, 10.0, 60.0, 120.0):
        assert most_in_window(everything, window) <= global_burst + global_refill(pacing) * window
        for chat, times in by_chat.items():
            if chat > 0:
                allowed = pacing.chat_burst + pacing.chat_rate * window
            else:
                allowed = pacing.group_burst + pacing.group_rate_per_min / 60 * window
            assert most_in_window(times, window) <= allowed, (chat, window)


# ---------------------------------------------------------------------- the pacer alone


def test_token_bucket_bursts_then_refills_at_its_rate() -> None:
    bucket = TokenBucket(rate=2.0, capacity=3, now=0.0)
    for _ in range(3):
        assert bucket.wait(0.0) == 0
        bucket.take(0.0)
    assert bucket.wait(0.0) == pytest.approx(0.5)
    assert bucket.wait(0.5) == 0
    bucket.take(0.5)
    assert bucket.wait(100.0) == 0 and bucket.full(100.0)


@pytest.mark.parametrize("pacing", [PACING, CHATS_BIND])
def test_pacer_keeps_every_limit_under_random_load(pacing: Pacing) -> None:
    clock = FakeClock()
    pacer = Pacer(pacing, clock=clock, sleep=clock.sleep)
    chats = [*BUYERS, GROUP, OTHER_GROUP]
    rng = random.Random(7)
    wanted = rng.choices(chats, weights=[2, 2, 2, 3, 3], k=150)
    sends: list[tuple[float, int]] = []

    async def send(chat: int) -> None:
        await pacer.acquire(chat)
        sends.append((clock(), chat))

    async def main() -> None:
        await asyncio.gather(*(send(chat) for chat in wanted))

    asyncio.run(driven(clock, main()))
    assert len(sends) == len(wanted)
    assert_within(pacing, sends)
    # Not slower than it must be: one group's 20 a minute after its burst of 3.
    group_times = sorted(when for when, chat in sends if chat == GROUP)
    assert group_times[-1] - group_times[0] >= (len(group_times) - 3) * 3 - 1e-6


def test_one_chat_is_sent_at_its_rate_not_slower() -> None:
    clock = FakeClock()
    pacing = Pacing(global_rate=1000, chat_rate=1, chat_burst=3)
    pacer = Pacer(pacing, clock=clock, sleep=clock.sleep)
    start = clock()

    async def main() -> list[float]:
        times = []
        for _ in range(10):
            await pacer.acquire(BUYERS[0])
            times.append(clock())
        return times

    times = asyncio.run(driven(clock, main()))
    assert times[:3] == [start] * 3  # the burst
    assert times[-1] - start == pytest.approx(7.0)  # then one a second


def test_a_hold_stops_the_chat_for_retry_after() -> None:
    clock = FakeClock()
    pacer = Pacer(PACING, clock=clock, sleep=clock.sleep)
    pacer.hold(GROUP, 30.0)
    start = clock()

    async def main() -> None:
        await pacer.acquire(BUYERS[0])
        assert clock() == start  # other chats are not held
        await pacer.acquire(GROUP)

    asyncio.run(driven(clock, main()))
    assert clock() - start >= 30.0


def test_idle_chats_are_forgotten(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sellerdesk.bot.telegram_io.pacing.MAX_TRACKED_CHATS", 10)
    clock = FakeClock()
    pacer = Pacer(PACING, clock=clock, sleep=clock.sleep)

    async def main() -> None:
        for chat in range(1, 30):
            await pacer.acquire(chat)
            clock.now += 10  # every bucket full again

    asyncio.run(driven(clock, main()))
    assert len(pacer.chats) <= 10


# ---------------------------------------------------------------------- settings


def test_pacing_settings_from_the_environment() -> None:
    settings = load_settings(
        {"TELEGRAM_GLOBAL_RATE": "1000", "TELEGRAM_GROUP_RATE": "40", "TELEGRAM_CHAT_BURST": "5"},
        env_file=Path("/nonexistent"),
    )
    assert settings.pacing == Pacing(
        global_rate=1000, chat_rate=1, chat_burst=5, group_rate_per_min=40, group_burst=3
    )
    assert load_settings({}, env_file=Path("/nonexistent")).pacing == Pacing()


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("TELEGRAM_GLOBAL_RATE", "0"),
        ("TELEGRAM_GLOBAL_RATE", "fast"),
        ("TELEGRAM_CHAT_RATE", "-1"),
        ("TELEGRAM_GROUP_RATE", "inf"),
        ("TELEGRAM_CHAT_BURST", "0"),
        ("TELEGRAM_GROUP_BURST", "2.5"),
    ],
)
def test_bad_pacing_settings_are_refused_with_the_name(key: str, value: str) -> None:
    with pytest.raises(SettingsError, match=key):
        load_pacing({key: value})


# ---------------------------------------------------------------------- the sender


class FakeBot:
    """Records each sendMessage (fake-clock time, chat, text); can answer 429."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.calls: list[tuple[float, int, str]] = []
        self.flood_once: dict[int, int] = {}
        self.ids = itertools.count(1)

    async def send_message(self, chat_id: int, text: str, **_: Any) -> SimpleNamespace:
        if self.flood_once.pop(chat_id, None) is not None:
            raise RetryAfter(1)
        self.calls.append((self.clock(), chat_id, text))
        await asyncio.sleep(0)
        return SimpleNamespace(message_id=next(self.ids))


@pytest.fixture
def db() -> Iterator[Database]:
    database = Database("sqlite://")
    database.prepare()
    yield database
    database.dispose()


def enqueue(db: Database, rows: list[tuple[int, str]]) -> None:
    with db.transaction() as session:
        for chat, body in rows:
            side = Side.BUYER if chat > 0 else Side.STAFF
            send_text(session, chat_id=chat, text=body, side=side)


def another_process(db: Database) -> Database:
    """``db`` as another process's handlers use it: the same database, no hand-over to
    this process's sender."""
    other = Database(db.url)
    other.engine, other.sessions = db.engine, db.sessions
    return other


def unsent(db: Database) -> int:
    with db.transaction() as session:
        counts = outbox.count_by_status(session)
        return counts[OutboxStatus.PENDING] + counts[OutboxStatus.SENDING]


async def run_sender(
    db: Database, bot: FakeBot, pacer: Pacer, while_running: Sequence[tuple[int, str]] = ()
) -> OutboxSender:
    sender = OutboxSender(db, cast(Bot, bot), NO_DESK, pacer=pacer)
    sender.start()
    for chat, body in while_running:  # handed straight to the sender, one update each
        await asyncio.to_thread(enqueue, db, [(chat, body)])
        sender.kick()
    deadline = time.monotonic() + 10
    while await asyncio.to_thread(unsent, db) and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    await sender.stop()
    return sender


@pytest.mark.parametrize("pacing", [PACING, CHATS_BIND])
def test_sender_keeps_limits_and_each_chats_order(db: Database, pacing: Pacing) -> None:
    clock = FakeClock()
    bot = FakeBot(clock)
    pacer = Pacer(pacing, clock=clock, sleep=clock.sleep)
    chats = [GROUP] * 12 + [OTHER_GROUP] * 6 + BUYERS * 6
    random.Random(3).shuffle(chats)
    rows = [(chat, f"{chat}:{n}") for n, chat in enumerate(chats)]
    enqueue(db, rows[:30])  # waiting in the outbox before the sender starts
    asyncio.run(driven(clock, run_sender(db, bot, pacer, while_running=rows[30:])))

    assert unsent(db) == 0
    assert sorted(text for _, _, text in bot.calls) == sorted(text for _, text in rows)
    assert_within(pacing, [(when, chat) for when, chat, _ in bot.calls])
    for chat in {*chats}:
        wanted = [text for c, text in rows if c == chat]
        assert [text for _, c, text in bot.calls if c == chat] == wanted


def test_sender_waits_retry_after_for_that_chat_only(db: Database) -> None:
    clock = FakeClock()
    bot = FakeBot(clock)
    bot.flood_once[GROUP] = 1
    pacer = Pacer(PACING, clock=clock, sleep=clock.sleep)
    enqueue(db, [(GROUP, "first"), (GROUP, "second"), (BUYERS[0], "elsewhere")])
    started = time.monotonic()
    asyncio.run(driven(clock, run_sender(db, bot, pacer)))

    texts = [text for _, chat, text in bot.calls if chat == GROUP]
    assert texts == ["first", "second"]  # the refused one again first, then the next
    first_try = min(when for when, chat, _ in bot.calls if chat == BUYERS[0])
    retried = min(when for when, chat, _ in bot.calls if chat == GROUP)
    assert retried - first_try >= 1.0  # the pacer held the group for retry_after
    assert time.monotonic() - started >= 1.0  # and the row waited for it in the outbox
    with db.transaction() as session:
        assert all(row.status == OutboxStatus.SENT for row in session.query(OutboxMessage))


def test_stopping_gives_back_rows_still_waiting_for_their_turn(db: Database) -> None:
    clock = FakeClock()
    bot = FakeBot(clock)
    # A real sleep: the group's fourth message waits three (real) seconds for a token.
    pacer = Pacer(PACING, clock=time.monotonic)
    bot.clock = cast(FakeClock, time.monotonic)
    enqueue(db, [(GROUP, f"m{n}") for n in range(4)])

    async def main() -> None:
        sender = OutboxSender(db, cast(Bot, bot), NO_DESK, pacer=pacer)
        sender.start()
        deadline = time.monotonic() + 5
        while len(bot.calls) < 3 and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.1)
        await sender.stop()

    asyncio.run(main())
    assert [text for _, _, text in bot.calls] == ["m0", "m1", "m2"]
    with db.transaction() as session:
        last = session.query(OutboxMessage).order_by(OutboxMessage.id.desc()).first()
        assert last is not None
        assert last.status == OutboxStatus.PENDING and last.attempts == 0
        assert last.claimed_by is None


def test_a_row_handed_over_waits_behind_an_earlier_unsent_row(db: Database) -> None:
    with db.transaction() as session:
        outbox.enqueue(session, kind="send_text", chat_id=BUYERS[0], payload={"text": "a"})
        row = outbox.enqueue(
            session,
            kind="send_text",
            chat_id=BUYERS[0],
            payload={"text": "b"},
            claim_for="worker",
            lease=timedelta(seconds=5),
        )
        free = outbox.enqueue(
            session, kind="send_text", chat_id=BUYERS[1], payload={"text": "c"}, claim_for="w"
        )
        assert row is not None and row.status == OutboxStatus.PENDING
        assert free is not None and free.status == OutboxStatus.SENDING
        assert free.claimed_by == "w" and free.attempts == 1


# ---------------------------------------------------------------------- claim queries

#: No limit binds: these tests are about when the sender queries, not its pacing.
FAST = Pacing(global_rate=10_000, chat_rate=10_000, chat_burst=100, group_rate_per_min=60_000)


def count_claims(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the sender's claim queries (one list item per query)."""
    claims: list[int] = []
    original = outbox.claim_batch

    def counting(*args: Any, **kwargs: Any) -> list[OutboxMessage]:
        claims.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(outbox, "claim_batch", counting)
    return claims


async def wait_sent(db: Database, bot: FakeBot, count: int, timeout: float) -> float:
    """Seconds until ``count`` messages were sent and none is left unsent."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if len(bot.calls) >= count and not await asyncio.to_thread(unsent, db):
            break
        await asyncio.sleep(0.005)
    return time.monotonic() - started


def test_answers_handed_over_are_sent_without_claim_queries(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Polls far apart: any claim beyond the first would come from the answers.
    monkeypatch.setattr("sellerdesk.bot.telegram_io.outbox.sender.POLL_INTERVAL_S", 30.0)
    claims = count_claims(monkeypatch)
    bot = FakeBot(cast(FakeClock, time.monotonic))

    async def main() -> float:
        sender = OutboxSender(db, cast(Bot, bot), NO_DESK, pacer=Pacer(FAST))
        sender.start()
        for n in range(30):  # one update each, as handlers store them
            await asyncio.to_thread(enqueue, db, [(6000 + n, f"answer {n}")])
        took = await wait_sent(db, bot, 30, timeout=10)
        await sender.stop()
        return took

    took = asyncio.run(main())
    assert took < 10 and len(bot.calls) == 30
    # The sender's first step claims (rows left by an earlier run); then none.
    assert len(claims) <= 2


def test_a_row_queued_behind_an_answer_goes_right_after_it(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sellerdesk.bot.telegram_io.outbox.sender.POLL_INTERVAL_S", 30.0)
    bot = FakeBot(cast(FakeClock, time.monotonic))
    chat = BUYERS[0]

    async def main() -> float:
        sender = OutboxSender(db, cast(Bot, bot), NO_DESK, pacer=Pacer(FAST))
        sender.start()
        await asyncio.sleep(0.05)  # past the first step's claim
        # Two updates in a row for one chat: the first is handed over, the second
        # stored for a claim behind it. No kick: the transaction tells the sender.
        await asyncio.to_thread(enqueue, db, [(chat, "first")])
        await asyncio.to_thread(enqueue, db, [(chat, "second")])
        took = await wait_sent(db, bot, 2, timeout=10)
        await sender.stop()
        return took

    took = asyncio.run(main())
    assert [text for _, c, text in bot.calls if c == chat] == ["first", "second"]
    assert took < 5  # not left for the next poll, 30 s away


def test_a_busy_sender_still_claims_rows_of_other_processes(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sellerdesk.bot.telegram_io.outbox.sender.POLL_INTERVAL_S", 0.2)
    bot = FakeBot(cast(FakeClock, time.monotonic))
    other = another_process(db)

    async def main() -> None:
        sender = OutboxSender(db, cast(Bot, bot), NO_DESK, pacer=Pacer(FAST))
        sender.start()
        await asyncio.sleep(0.05)
        await asyncio.to_thread(enqueue, other, [(GROUP, "from elsewhere")])
        deadline = time.monotonic() + 3
        n = 0
        # Answers keep the sender busy the whole time: no idle wait ever times out.
        while time.monotonic() < deadline and not any(c == GROUP for _, c, _ in bot.calls):
            await asyncio.to_thread(enqueue, db, [(7000 + n, "busy")])
            n += 1
        await sender.stop()

    asyncio.run(main())
    assert any(text == "from elsewhere" for _, _, text in bot.calls)


def test_a_row_queued_behind_another_process_s_row_goes_soon_after_it(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two webhook processes: a buyer's first message was relayed by the other process,
    # their second by this one, stored behind the first. The other process records its
    # send without telling this sender; polls far apart must not delay the second.
    monkeypatch.setattr("sellerdesk.bot.telegram_io.outbox.sender.POLL_INTERVAL_S", 30.0)
    claims = count_claims(monkeypatch)
    bot = FakeBot(cast(FakeClock, time.monotonic))
    other = another_process(db)
    chat = BUYERS[0]

    def other_claims_first() -> int:
        with other.transaction() as session:
            (row,) = outbox.claim_batch(session, "elsewhere", limit=10)
            return row.id

    def other_records_first(row_id: int) -> None:
        with other.transaction() as session:
            assert outbox.mark_sent(session, row_id, "elsewhere", [900])

    async def main() -> tuple[float, int]:
        await asyncio.to_thread(enqueue, other, [(chat, "first")])
        first = await asyncio.to_thread(other_claims_first)
        sender = OutboxSender(db, cast(Bot, bot), NO_DESK, pacer=Pacer(FAST))
        sender.start()
        await asyncio.to_thread(enqueue, db, [(chat, "second")])  # queued behind "first"
        await asyncio.sleep(0.1)
        assert bot.calls == []  # "first" is not sent yet: "second" waits
        await asyncio.to_thread(other_records_first, first)
        took = await wait_sent(db, bot, 1, timeout=10)
        idle_claims = len(claims)
        await asyncio.sleep(1.0)  # nothing queued any more: no more short polls
        extra = len(claims) - idle_claims
        await sender.stop()
        return took, extra

    took, extra = asyncio.run(main())
    assert [text for _, c, text in bot.calls if c == chat] == ["second"]
    assert took < 5  # polls are 30 s apart: only the short re-look explains this
    assert extra == 0


# ---------------------------------------------------------------------- several processes


def test_two_senders_share_the_bot_wide_and_group_limits() -> None:
    clock = FakeClock()
    pacer = Pacer(PACING, clock=clock)
    pacer.try_take(GROUP)  # a group bucket in use before the share changes
    pacer.try_take(BUYERS[0])
    pacer.share(2)
    assert pacer.bot.rate == global_refill(replace(PACING, global_rate=PACING.global_rate / 2))
    assert pacer.chats[GROUP].rate == PACING.group_rate_per_min / 60 / 2
    assert pacer.chats[GROUP].capacity == max(1, PACING.group_burst // 2)
    # A private chat's messages go out one after another whichever process sends
    # them: its pace stays whole.
    assert pacer.chats[BUYERS[0]].rate == PACING.chat_rate
    assert pacer._chat(OTHER_GROUP, clock()).rate == PACING.group_rate_per_min / 60 / 2
    pacer.share(1)
    assert pacer.bot.rate == global_refill(PACING)
    assert pacer.chats[GROUP].rate == PACING.group_rate_per_min / 60


def test_a_group_gets_half_the_sends_a_minute_from_each_of_two_senders() -> None:
    clock = FakeClock()
    pacer = Pacer(CHATS_BIND, clock=clock, sleep=clock.sleep)
    pacer.share(2)
    sent: list[float] = []

    async def send_all() -> None:
        for _ in range(30):
            await pacer.acquire(GROUP)
            sent.append(clock())

    asyncio.run(driven(clock, send_all()))
    # This process's part of a group's 20 a minute: no minute holds more than 10
    # (1 at once, then one every 6 s), against 22 for one sender alone.
    assert most_in_window(sent, 59.0) <= 10
    assert sent[-1] - sent[0] >= 29 * 6 - 1e-6


def test_senders_of_two_processes_count_each_other(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sellerdesk.bot.telegram_io.outbox.sender.HEARTBEAT_S", 0.05)
    url = f"sqlite:///{tmp_path / 'desk.db'}"
    first_db, second_db = Database(url), Database(url)
    first_db.prepare()
    bot = FakeBot(cast(FakeClock, time.monotonic))

    async def until(check: Callable[[], bool]) -> bool:
        deadline = time.monotonic() + 10
        while not check() and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        return check()

    async def main() -> tuple[bool, bool, bool]:
        first = OutboxSender(first_db, cast(Bot, bot), NO_DESK, pacer=Pacer(FAST))
        first.start()
        alone = await until(lambda: first.pacer.senders == 1 and first._beat_task is not None)
        second = OutboxSender(second_db, cast(Bot, bot), NO_DESK, pacer=Pacer(FAST))
        second.start()
        both = await until(lambda: first.pacer.senders == 2 and second.pacer.senders == 2)
        await second.stop()  # its heartbeat goes: the first takes the whole again
        whole = await until(lambda: first.pacer.senders == 1)
        await first.stop()
        return alone, both, whole

    alone, both, whole = asyncio.run(main())
    assert alone and both and whole
    first_db.dispose()
    second_db.dispose()
