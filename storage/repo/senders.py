"""Running outbox senders: each bot process says it is alive, and learns how many are;
and the Telegram file ids of the files sent with FAQ answers (uploaded once each).

Telegram's flood limits (about 30 messages a second per bot, about 20 a minute per
group) are the bot's, not a process's. With N processes sending for one bot, each
one paces its sends at a Nth of the limits; N is counted here, from heartbeats in
the shared database, so that starting a second process, or losing one, needs no
change of settings anywhere.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from sellerdesk.storage.models import WORKER_ID_LEN, MediaUpload, SenderHeartbeat
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


# ----------------------------------------------------------------- uploaded file ids

#: A file id unused this long is forgotten (the file is uploaded again if it is sent).
FORGET_UPLOADS_AFTER = timedelta(days=180)


def uploaded(session: Session, keys: list[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """The file ids known for ``(digest, kind)`` keys."""
    if not keys:
        return {}
    rows = session.execute(
        select(MediaUpload.digest, MediaUpload.kind, MediaUpload.file_id).where(
            tuple_(MediaUpload.digest, MediaUpload.kind).in_(keys)
        )
    )
    return {(digest, kind): file_id for digest, kind, file_id in rows}


def remember_uploads(
    session: Session, file_ids: dict[tuple[str, str], str], now: datetime | None = None
) -> None:
    """Store (or replace) file ids by ``(digest, kind)``; the others of the same
    files are marked used now. Old, unused ids are deleted on the way."""
    now = now or utcnow()
    for (digest, kind), file_id in file_ids.items():
        found = session.get(MediaUpload, (digest, kind))
        if found is None:
            session.add(MediaUpload(digest=digest, kind=kind, file_id=file_id, used_at=now))
        else:
            found.file_id, found.used_at = file_id, now
    session.flush()
    session.execute(delete(MediaUpload).where(MediaUpload.used_at < now - FORGET_UPLOADS_AFTER))


def touch_uploads(
    session: Session, keys: list[tuple[str, str]], now: datetime | None = None
) -> None:
    """Mark file ids as used now (sent again by their id)."""
    if keys:
        session.execute(
            update(MediaUpload)
            .where(tuple_(MediaUpload.digest, MediaUpload.kind).in_(keys))
            .values(used_at=now or utcnow())
        )


def forget_uploads(session: Session, keys: list[tuple[str, str]]) -> None:
    """Drop file ids Telegram no longer takes (another bot token, a file it lost)."""
    if keys:
        session.execute(
            delete(MediaUpload).where(tuple_(MediaUpload.digest, MediaUpload.kind).in_(keys))
        )
