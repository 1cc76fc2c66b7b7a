"""The migrations build exactly the models' schema, on both backends, from any folder."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import URL, inspect, text

from sellerdesk.storage import migrate
from sellerdesk.storage.db import make_engine
from sellerdesk.storage.models import Base
from testing.postgres import pg_schema
from tests.storage.conftest import BACKENDS


@pytest.fixture(params=BACKENDS)
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str | URL]:
    """A URL of an empty database (a fresh SQLite file, or a fresh PostgreSQL schema)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrated.db'}"
    else:
        with pg_schema("sdmig") as url:
            yield url


def test_upgrade_builds_the_models_schema(
    empty_url: str | URL, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # From another working directory: the migrations are found beside the package.
    monkeypatch.chdir(tmp_path)
    migrate.upgrade(empty_url)
    engine = make_engine(empty_url)
    try:
        with engine.connect() as connection:
            tables = set(inspect(connection).get_table_names())
            assert tables == set(Base.metadata.tables) | {"alembic_version"}
            assert migrate.current_revision(connection) == migrate.head_revision()
            assert migrate.schema_differences(connection) == []
        migrate.check(empty_url)
    finally:
        engine.dispose()


def test_upgrade_twice_is_a_no_op(empty_url: str | URL) -> None:
    migrate.upgrade(empty_url)
    migrate.upgrade(empty_url)
    migrate.check(empty_url)


def test_downgrade_to_base_removes_everything_and_upgrade_restores_it(
    empty_url: str | URL,
) -> None:
    migrate.upgrade(empty_url)
    migrate.downgrade(empty_url, "base")
    engine = make_engine(empty_url)
    try:
        with engine.connect() as connection:
            assert set(inspect(connection).get_table_names()) == {"alembic_version"}
    finally:
        engine.dispose()
    migrate.upgrade(empty_url)
    migrate.check(empty_url)


def test_schema_differences_notices_a_drift(empty_url: str | URL) -> None:
    """The comparison is not vacuous: a missing index is reported."""
    migrate.upgrade(empty_url)
    engine = make_engine(empty_url)
    try:
        with engine.begin() as connection:
            connection.execute(text("DROP INDEX ix_outbox_status_not_before"))
        with engine.connect() as connection:
            differences = migrate.schema_differences(connection)
        assert [d[0] for d in differences] == ["add_index"]
        with pytest.raises(migrate.SchemaMismatchError, match="differs from the models"):
            migrate.check(empty_url)
    finally:
        engine.dispose()


def test_check_refuses_an_unmigrated_database(empty_url: str | URL) -> None:
    with pytest.raises(migrate.SchemaMismatchError, match="run `db upgrade`"):
        migrate.check(empty_url)


def test_revisions_are_numbered_files_in_a_chain() -> None:
    scripts = ScriptDirectory.from_config(migrate.alembic_config())
    chain = list(reversed(list(scripts.walk_revisions())))
    assert chain, "no migration scripts"
    for number, script in enumerate(chain, start=1):
        assert script.revision == f"{number:04d}"
        assert script.down_revision == (f"{number - 1:04d}" if number > 1 else None)
        assert script.path is not None
        assert re.fullmatch(rf"{script.revision}_[a-z0-9_]+\.py", Path(script.path).name)
    assert migrate.head_revision() == chain[-1].revision


def test_the_migration_template_ships_with_the_package() -> None:
    assert (migrate.MIGRATIONS_DIR / "script.py.mako").is_file()
    assert (migrate.MIGRATIONS_DIR / "env.py").is_file()


def test_make_revision_writes_the_next_numbered_script(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = tmp_path / "migrations"
    shutil.copytree(migrate.MIGRATIONS_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(migrate, "MIGRATIONS_DIR", copy)
    url = f"sqlite:///{tmp_path / 'dev.db'}"
    migrate.upgrade(url)
    head = migrate.head_revision()
    expected = f"{int(head) + 1:04d}"
    migrate.make_revision(url, "add nothing")
    (script,) = (copy / "versions").glob(f"{expected}_*.py")
    source = script.read_text(encoding="utf-8")
    assert f'revision: str = "{expected}"' in source
    assert f'down_revision: str | None = "{head}"' in source
    compile(source, str(script), "exec")
    migrate.upgrade(url)
    assert migrate.head_revision() == expected


def test_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    migrate.main(["upgrade", "--url", url])
    migrate.main(["check", "--url", url])
    with pytest.raises(SystemExit):
        migrate.main(["revision", "--url", url])  # a revision needs a message
    assert "-m/--message" in capsys.readouterr().err
