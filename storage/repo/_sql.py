"""Building blocks the repositories share: insert-if-absent, conditional updates, claiming
rows, and clipping text to its column.

These are the places where SQLite and PostgreSQL need different statements for
the same guarantee; the repositories above them stay backend-neutral.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeVar, cast

from sqlalchemy import (
    ColumnElement,
    CursorResult,
    Executable,
    Result,
    Select,
    Table,
    bindparam,
    insert,
    literal_column,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import InstrumentedAttribute, Session, make_transient_to_detached
from sqlalchemy.orm.util import identity_key

from sellerdesk.storage.models import Base


def clip(value: str | None, length: int) -> str | None:
    """``value`` cut to ``length`` characters: PostgreSQL refuses longer text, and a
    buyer's long name or subject must not make the whole update fail."""
    return value[:length] if value is not None else None


def table_of(model: type[Base]) -> Table:
    """The table of a mapped class, for Core statements built once at import: they
    skip the ORM's per-call work where no mapped object is wanted back."""
    return cast(Table, model.__table__)


M = TypeVar("M", bound=Base)


def insert_returning_object(
    session: Session, model: type[M], stmt: Executable, values: Mapping[str, Any]
) -> M:
    """INSERT one row with ``stmt`` (built once: ``insert(table).returning(id)``) and
    return it as a persistent object of ``session``, as ``session.add`` + ``flush``
    would, without the ORM's flush machinery (several times the cost of the insert
    itself on the desk's hottest paths).

    ``values`` must name every column but the id: the object is not read back, so a
    column left to a database default would be missing from it.
    """
    _check_complete(model, values)
    row_id = session.execute(stmt, dict(values)).scalar_one()
    return persist_inserted(session, model, row_id, values)


def _check_complete(model: type[Base], values: Mapping[str, Any]) -> None:
    table = table_of(model)
    missing = {c.key for c in table.columns if not c.primary_key} - set(values)
    if missing:
        raise ValueError(f"{model.__name__}: no value for {', '.join(sorted(missing))}")


def persist_inserted(session: Session, model: type[M], row_id: int, values: Mapping[str, Any]) -> M:
    """The row just inserted with ``values`` and given ``row_id``, as a persistent
    object of ``session`` (see :func:`insert_returning_object`)."""
    obj = model(**values)
    obj.id = row_id  # type: ignore[attr-defined]
    make_transient_to_detached(obj)
    session.add(obj)
    return obj


def fixed(value: str) -> ColumnElement[Any]:
    """A constant of the code (an enum member) written into the statement, not bound.

    SQLite prepares a statement again at every execution when a bound value decides
    whether a partial index applies (``cases.status = ?`` against the index of open
    cases): several times the cost of running it. A literal decides that once.
    """
    return literal_column("'" + str(value).replace("'", "''") + "'")


def in_literals(
    column: ColumnElement[Any] | InstrumentedAttribute[Any], values: Iterable[str]
) -> ColumnElement[bool]:
    """``column IN ('a', 'b')`` with the values written into the statement (see
    :func:`fixed`); an IN of bound values is also expanded again at every execution."""
    return column.in_([fixed(value) for value in values])


def rowcount(result: Result[Any]) -> int:
    """Rows matched by an UPDATE or DELETE (``Session.execute`` types its result loosely)."""
    return cast("CursorResult[Any]", result).rowcount


def update_rows(
    session: Session,
    id_column: InstrumentedAttribute[int],
    values: Mapping[str, Any],
    *conditions: ColumnElement[bool],
) -> list[int]:
    """UPDATE the rows matching ``conditions``; return the ids of the rows changed.

    A conditional UPDATE is how the repositories make a state change exactly once
    (the row count is the answer to "did this call do it?"). Objects already loaded
    in the session get the changed columns expired, so they re-read them: the ORM's
    own synchronisation skips columns that were never loaded, which left stale
    values behind.
    """
    model = cast(type[Base], id_column.class_)
    stmt = (
        update(model)
        .where(*conditions)
        .values(dict(values))
        .returning(id_column)
        .execution_options(synchronize_session=False)
    )
    ids = list(session.scalars(stmt))
    for row_id in ids:
        cached = session.identity_map.get(identity_key(model, row_id))
        if cached is not None:
            session.expire(cached, list(values))
    return ids


def dialect_name(session: Session) -> str:
    return session.get_bind().dialect.name


def insert_ignore(session: Session, model: type[Base], values: Mapping[str, Any]) -> bool:
    """Insert one row unless it would violate a unique constraint; True if inserted.

    Race-safe: the database decides, not a prior SELECT. On PostgreSQL, when another
    transaction is inserting the same key, this waits for it to commit and then does
    nothing (or inserts, if it rolled back). Any unique constraint of the table
    counts as a conflict.
    """
    name = dialect_name(session)
    if name in ("postgresql", "sqlite"):
        stmt = _insert_ignore_statement(model, name)
        return rowcount(session.execute(stmt, dict(values))) == 1
    # Other backends: a savepoint keeps the enclosing transaction usable after the error.
    try:
        with session.begin_nested():
            session.execute(insert(model).values(dict(values)))
    except IntegrityError:
        return False
    return True


def insert_ignore_object(session: Session, model: type[M], values: Mapping[str, Any]) -> M | None:
    """:func:`insert_ignore`, returning the new row as a persistent object (as
    :func:`insert_returning_object` does: ``values`` names every column but the id).

    None when the row was not inserted (a conflict), and on backends other than
    SQLite and PostgreSQL, where the row may have been: read it then.
    """
    _check_complete(model, values)
    name = dialect_name(session)
    if name not in ("postgresql", "sqlite"):
        insert_ignore(session, model, values)
        return None
    key = (model, name)
    stmt = _INSERT_IGNORE_RETURNING.get(key)
    if stmt is None:
        table = table_of(model)
        id_column = next(c for c in table.columns if c.primary_key)
        stmt = _insert_ignore_statement(model, name).returning(id_column)
        _INSERT_IGNORE_RETURNING[key] = stmt
    row_id = session.execute(stmt, dict(values)).scalar_one_or_none()
    return None if row_id is None else persist_inserted(session, model, row_id, values)


_INSERT_IGNORE: dict[tuple[type[Base], str], postgresql.Insert | sqlite.Insert] = {}
_INSERT_IGNORE_RETURNING: dict[tuple[type[Base], str], Executable] = {}


def _insert_ignore_statement(
    model: type[Base], dialect_name: str
) -> postgresql.Insert | sqlite.Insert:
    """``INSERT ... ON CONFLICT DO NOTHING`` for ``model``, built once per backend: the
    values come as execution parameters, so the statement, its cache key and its
    compiled form are reused by every call (building them was most of the cost)."""
    key = (model, dialect_name)
    stmt = _INSERT_IGNORE.get(key)
    if stmt is None:
        dialect = postgresql if dialect_name == "postgresql" else sqlite
        # The table, not the mapped class: an ORM insert with parameters would be a
        # bulk insert, which reports no row count. Attribute and column names agree.
        stmt = (
            dialect.insert(table_of(model))
            .on_conflict_do_nothing()
            # SQLAlchemy only fetches the row count of an INSERT when asked to.
            .execution_options(preserve_rowcount=True)
        )
        _INSERT_IGNORE[key] = stmt
    return stmt


def claim_ids(
    session: Session,
    id_column: InstrumentedAttribute[int],
    candidates: Select[Any],
    claimable: ColumnElement[bool],
    claim_values: Mapping[str, Any],
    params: Mapping[str, Any] | None = None,
) -> list[int]:
    """Atomically mark rows as claimed by this caller; return the ids it got.

    Args:
        id_column: the primary key column of the queue table.
        candidates: selects ids of rows that look claimable, in the order to take
            them, limited to the batch size.
        claimable: the condition that must still hold for a row at the moment it is
            claimed (e.g. ``status = 'pending'``).
        claim_values: the columns to set on claimed rows.
        params: values of the bound parameters in the three above (statements built
            once, with ``bindparam``, cost far less to run than new ones).

    On PostgreSQL the candidates are selected ``FOR UPDATE SKIP LOCKED``: rows that
    another worker is claiming right now are skipped rather than waited for, so
    workers never block each other and never take the same row; the locks last until
    the caller commits. Elsewhere (SQLite: one writer at a time, the transaction
    began with ``BEGIN IMMEDIATE``) each row is taken by a conditional UPDATE whose
    row count says whether this caller won it, which stays correct even if two
    transactions did overlap. Objects of the table already in the session are not
    refreshed: read the claimed rows afresh (``populate_existing``).
    """
    table = table_of(cast(type[Base], id_column.class_))
    key = table.c[id_column.key]
    values = dict(params or {})
    if dialect_name(session) == "postgresql":
        locked = candidates.with_for_update(skip_locked=True)
        ids: Sequence[int] = session.scalars(locked, values).all()
        if ids:
            stmt = update(table).where(key.in_(ids)).values(dict(claim_values))
            session.execute(stmt, values)
        return list(ids)
    candidate_ids = session.scalars(candidates, values).all()
    if not candidate_ids:
        return []
    # One statement for every row of the batch; only the row's id changes.
    take = update(table).where(key == bindparam("claim_row_id"), claimable)
    take = take.values(dict(claim_values))
    return [
        row_id
        for row_id in candidate_ids
        if rowcount(session.execute(take, {**values, "claim_row_id": row_id})) == 1
    ]
