"""Throwaway PostgreSQL schemas for tests and benchmarks.

The server is ``SELLERDESK_TEST_PG_URL`` (default: the local ``test`` database).
Several runs may share that database at once, so each works in a schema of its own
(``search_path`` set through the connection options), dropped at the end.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

import pytest
from sqlalchemy import URL, make_url, text
from sqlalchemy.pool import NullPool

from sellerdesk.storage.db import make_engine

PG_URL = os.environ.get(
    "SELLERDESK_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
#: Seconds to wait for the test server before skipping the PostgreSQL tests.
PG_PROBE_TIMEOUT_S = 2


@cache
def pg_unavailable() -> str | None:
    """Why the PostgreSQL tests cannot run, or None when the server answers."""
    engine = make_engine(
        PG_URL, poolclass=NullPool, connect_args={"connect_timeout": PG_PROBE_TIMEOUT_S}
    )
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
        return f"PostgreSQL not reachable at {make_url(PG_URL)!r}: {first_line}"
    finally:
        engine.dispose()
    return None


def with_search_path(url: str, schema: str) -> URL:
    """``url`` with every connection's search_path set to ``schema``."""
    return make_url(url).update_query_dict({"options": f"-csearch_path={schema}"})


@contextmanager
def pg_schema(prefix: str) -> Iterator[URL]:
    """A fresh, uniquely named schema for the duration of the block; yields its URL."""
    reason = pg_unavailable()
    if reason:
        pytest.skip(reason)
    schema = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = make_engine(PG_URL, poolclass=NullPool)
    try:
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        yield with_search_path(PG_URL, schema)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()
