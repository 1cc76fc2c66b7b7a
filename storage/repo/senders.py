"""Running outbox senders: each bot process says it is alive, and learns how many are.

Telegram's flood limits (about 30 messages a second per bot, about 20 a minute per
group) are the bot's, not a process's. With N processes sending for one bot, each
one paces its sends at a Nth of the limits; N is counted here, from heartbeats in
the shared database, so that starting a second process, or losing one, needs no
change of settings anywhere.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from sellerdesk.storage.models import WORKER_ID_LEN, SenderHeartbeat
from sellerdesk.storage.repo._sql import dialect_name, rowcount, table_of
from sellerdesk.storage.types import utcnow

#: Heartbeats older than this are forgotten (a process that died long ago).
FORGET_AFTER = timedelta(days=1)


def beat(session: Session, worker_id: str, live_for: timedelta, now: datetime | None = None) -> int:
    """Note that ``worker_id`` is running now; returns how many senders are (this one
    included): those seen within ``live_for``. Heartbeats of senders gone for a day
    are deleted on the way."""
    now = now or utcnow()
    worker_id = worker_id[:WORKER_ID_LEN]
    name = dialect_name(session)
    if name in ("postgresql", "sqlite"):
        dialect = postgresql if name == "postgresql" else sqlite
        stmt = dialect.insert(table_of(SenderHeartbeat)).values(worker_id=worker_id, seen_at=now)
        upsert = stmt.on_conflict_do_update(index_elements=["worker_id"], set_={"seen_at": now})
        session.execute(upsert)
    else:
        found = session.get(SenderHeartbeat, worker_id)
        if found is None:
            session.add(SenderHeartbeat(worker_id=worker_id, seen_at=now))
        else:
            found.seen_at = now
        session.flush()
    session.execute(delete(SenderHeartbeat).where(SenderHeartbeat.seen_at < now - FORGET_AFTER))
    return max(1, count_live(session, live_for, now))


def count_live(session: Session, live_for: timedelta, now: datetime | None = None) -> int:
    """Senders heard from within ``live_for``."""
    since = (now or utcnow()) - live_for
    live = select(func.count()).where(SenderHeartbeat.seen_at >= since)
    return int(session.execute(live).scalar_one())


def forget(session: Session, worker_id: str) -> bool:
    """A sender stops: the others take its share at their next heartbeat."""
    stmt = delete(SenderHeartbeat).where(SenderHeartbeat.worker_id == worker_id[:WORKER_ID_LEN])
    return rowcount(session.execute(stmt)) == 1
