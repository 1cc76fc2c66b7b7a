"""Live reload of seller content: a good edit swaps everything at once, a broken one
keeps the last good content and tells the admin chat (once per set of problems), and
file bursts reload once."""

from __future__ import annotations

import asyncio
import re
import shutil
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

import sellerdesk.bot.reload as reload_module
from sellerdesk.bot.database import Database
from sellerdesk.bot.desk.answers import FaqAnswers, LiveContent
from sellerdesk.bot.desk.cases import DeskContext
from sellerdesk.bot.reload import (
    MESSAGE_CHARS,
    ContentReloader,
    is_content_change,
    problems_message,
)
from sellerdesk.bot.settings import SettingsError, load_settings
from sellerdesk.faq.content.loader import SELLER_FILES, load_content
from sellerdesk.faq.matching.decision import Action
from sellerdesk.storage.models import OutboxMessage
from tests.storage import factories

DEMO = Path(__file__).resolve().parents[2] / "examples" / "sellers"
SELLER = "lotus-wear"
ADMIN_CHAT = -1009000000009
QUESTION = "Сколько идет доставка?"
OLD_ANSWER = "Мы отправляем заказ со склада в Гуанчжоу"
NEW_ANSWER = "Новый срок: доставка за 7 дней."
#: Seconds a test waits for something to happen before it fails.
DEADLINE_S = 10.0


@pytest.fixture
def content_dir(tmp_path: Path) -> Path:
    root = tmp_path / "content"
    shutil.copytree(DEMO, root)
    return root


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'desk.db'}")
    database.prepare()
    yield database
    database.dispose()


def faq_path(root: Path) -> Path:
    return root / SELLER / "faq.yaml"


def set_answer(root: Path, answer: str) -> None:
    """Replace the ru answer of the delivery-time entry."""
    path = faq_path(root)
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    entry = lines.index("  - id: delivery-time\n")
    answer_at = lines.index("    answer:\n", entry)
    assert lines[answer_at + 1].startswith("      ru: ")
    lines[answer_at + 1] = f"      ru: '{answer}'\n"
    path.write_text("".join(lines), encoding="utf-8")


def break_yaml(root: Path) -> int:
    """Append an entry with a misspelt key; returns the line of the typo."""
    path = faq_path(root)
    text = path.read_text(encoding="utf-8").rstrip("\n") + "\n"
    typo_line = text.count("\n") + 4
    entry = "  - id: broken\n    questions: [Вопрос?]\n    answer: Ответ\n    answr: typo\n"
    path.write_text(text + entry, encoding="utf-8")
    return typo_line


def admin_messages(db: Database) -> list[str]:
    with db.transaction() as session:
        rows = session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.chat_id == ADMIN_CHAT)
            .order_by(OutboxMessage.id)
        )
        return [str(row.payload["text"]) for row in rows]


def make_reloader(root: Path, db: Database, **options: Any) -> tuple[FaqAnswers, ContentReloader]:
    faq = FaqAnswers(LiveContent(load_content(root)), "fuzzy")
    return faq, ContentReloader(faq, db, root, ADMIN_CHAT, "ru", **options)


def answer(faq: FaqAnswers, question: str = QUESTION) -> str:
    seller = faq.seller(SELLER)
    assert seller is not None
    reply = faq.ask(seller, question, "ru")
    assert reply.action is Action.ANSWER, reply
    return reply.text


def run(coro: Awaitable[Any]) -> Any:
    async def main() -> Any:
        return await asyncio.wait_for(coro, 60)

    return asyncio.run(main())


async def until(predicate: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


# ------------------------------------------------------------------ which files count


@pytest.mark.parametrize(
    ("name", "counts"),
    [
        ("lotus-wear/faq.yaml", True),
        ("lotus-wear/products.csv", True),
        ("lotus-wear", True),
        ("new-shop/seller.yaml", True),
        ("lotus-wear/.faq.yaml.swp", False),
        ("lotus-wear/faq.yaml.swx", False),
        ("lotus-wear/faq.yaml~", False),
        ("lotus-wear/.#faq.yaml", False),
        ("lotus-wear/#faq.yaml#", False),
        ("lotus-wear/faq.yaml.bak", False),
        ("lotus-wear/4913", False),
        (".git/index", False),
        ("_drafts/faq.yaml", False),
        ("lotus-wear/seller.yaml", True),
        ("lotus-wear/templates.yaml", True),
        ("lotus-wear/notes.txt", False),
        ("lotus-wear/photos/box.jpg", False),
        ("sellerdesk.db", False),
        ("sellerdesk.db-journal", False),
        ("sellerdesk.db-wal", False),
        ("bot.log", False),
    ],
)
def test_editor_files_are_not_content(tmp_path: Path, name: str, counts: bool) -> None:
    assert is_content_change(tmp_path, tmp_path / name) is counts
    assert not is_content_change(tmp_path / "content", tmp_path / "elsewhere" / "faq.yaml")


def test_a_file_beside_the_seller_folders_is_not_content(tmp_path: Path) -> None:
    """A database or notes file kept in the content folder changes often; only
    folders there are sellers."""
    (tmp_path / "new-shop").mkdir()
    (tmp_path / "README").write_text("notes", encoding="utf-8")
    assert is_content_change(tmp_path, tmp_path / "new-shop")
    assert not is_content_change(tmp_path, tmp_path / "README")
    # Every file the loader reads counts.
    for name in SELLER_FILES:
        assert is_content_change(tmp_path, tmp_path / "new-shop" / name)


def test_content_watch_setting(tmp_path: Path) -> None:
    no_file = tmp_path / "missing.env"
    assert load_settings({}, no_file).content_watch is True
    assert load_settings({"CONTENT_WATCH": "off"}, no_file).content_watch is False
    assert load_settings({"CONTENT_WATCH": " On "}, no_file).content_watch is True
    with pytest.raises(SettingsError, match="CONTENT_WATCH must be on or off"):
        load_settings({"CONTENT_WATCH": "sometimes"}, no_file)


# ------------------------------------------------------------------ good and broken edits


def test_valid_edit_swaps_content_and_posts_a_summary(content_dir: Path, db: Database) -> None:
    faq, reloader = make_reloader(content_dir, db)
    ctx = DeskContext(faq=faq, alias_key=b"k")
    old_seller = ctx.seller(SELLER)
    assert OLD_ANSWER in answer(faq)
    set_answer(content_dir, NEW_ANSWER)

    result = run(reloader.reload())

    assert result.ok and result.changes.entries.changed == 1
    assert answer(faq) == NEW_ANSWER
    assert ctx.seller(SELLER) is faq.seller(SELLER) is not old_seller
    assert ctx.content is faq.live.current.content
    [message] = admin_messages(db)
    assert message.startswith("Контент обновлён:")
    assert "изменено 1" in message  # the changed entry
    # A question that began before the swap still matches against its own version.
    assert old_seller is not None
    assert faq.matcher(old_seller).seller is old_seller


def test_save_without_changes_posts_nothing(content_dir: Path, db: Database) -> None:
    _, reloader = make_reloader(content_dir, db)
    faq_path(content_dir).touch()
    result = run(reloader.reload())
    assert result.ok and not result.changes.any_change
    assert admin_messages(db) == []
    # /reload always answers, as a reply to the command.
    run(reloader.reload(reply_to=77))
    [message] = admin_messages(db)
    assert message.startswith("Контент обновлён:")


def test_broken_edit_keeps_old_content_and_reports_file_and_line(
    content_dir: Path, db: Database
) -> None:
    faq, reloader = make_reloader(content_dir, db)
    line = break_yaml(content_dir)

    result = run(reloader.reload())

    assert not result.ok
    assert any(p.startswith(f"{SELLER}/faq.yaml:") for p in result.problems), result.problems
    assert OLD_ANSWER in answer(faq)
    [message] = admin_messages(db)
    assert message.startswith("<b>Контент не обновлён")
    # Named by its id, not its place in the list.
    assert re.search(rf"• {SELLER}/faq\.yaml:{line}: entry [a-z0-9-]+\.answr: unknown key", message)


def test_same_errors_are_posted_once_and_a_fix_clears_them(content_dir: Path, db: Database) -> None:
    faq, reloader = make_reloader(content_dir, db)
    original = faq_path(content_dir).read_text(encoding="utf-8")
    break_yaml(content_dir)

    async def scenario() -> None:
        await reloader.reload()
        await reloader.reload()  # saved again, still the same problem
        assert len(admin_messages(db)) == 1
        # A different problem is news.
        (content_dir / SELLER / "seller.yaml").write_text("name: [\n", encoding="utf-8")
        await reloader.reload()
        assert len(admin_messages(db)) == 2
        assert f"{SELLER}/seller.yaml:" in admin_messages(db)[-1]
        assert "invalid YAML" in admin_messages(db)[-1]
        # /reload repeats the problems on request.
        await reloader.reload(reply_to=5)
        assert len(admin_messages(db)) == 3

    run(scenario())
    shutil.copy(DEMO / SELLER / "seller.yaml", content_dir / SELLER / "seller.yaml")
    faq_path(content_dir).write_text(original, encoding="utf-8")
    set_answer(content_dir, NEW_ANSWER)
    result = run(reloader.reload())
    assert result.ok
    assert answer(faq) == NEW_ANSWER
    assert admin_messages(db)[-1].startswith("Контент обновлён, ошибки исправлены:")
    assert len(admin_messages(db)) == 4


def test_problems_are_escaped_and_capped_at_telegram_length() -> None:
    lines = [f"shop/faq.yaml:{n}: answer: <b>bad</b> & worse" for n in range(1, 500)]
    message = problems_message(lines, "en")
    assert len(message.encode("utf-16-le")) // 2 <= MESSAGE_CHARS
    assert "&lt;b&gt;bad&lt;/b&gt; &amp; worse" in message and "<b>bad" not in message
    shown = message.count("shop/faq.yaml:")
    assert 0 < shown < len(lines)
    assert message.endswith(f"…and {len(lines) - shown} more")
    assert problems_message(lines[:3], "en").count("\n") == 3  # nothing cut


def test_removed_seller_keeps_its_open_cases(content_dir: Path, db: Database) -> None:
    other = content_dir / "other-shop"
    shutil.copytree(content_dir / SELLER, other)
    faq, reloader = make_reloader(content_dir, db)
    ctx = DeskContext(faq=faq, alias_key=b"k")
    with db.transaction() as session:
        factories.case(session, seller_id=SELLER)
    shutil.rmtree(content_dir / SELLER)

    result = run(reloader.reload())

    assert result.ok and dict(result.changes.retired) == {SELLER: 1}
    assert faq.seller(SELLER) is None  # not offered to buyers any more
    retired = ctx.seller(SELLER)  # but its case still finds it
    assert retired is not None and retired.name == "Lotus Wear"
    assert [s.id for s in ctx.sellers_of_chat(retired.support_chat_id)] == ["other-shop", SELLER]
    [message] = admin_messages(db)
    assert "«Lotus Wear» удалён из файлов" in message and "обращения: 1" in message
    # Another reload keeps it while the case is open, without telling again.
    (other / "faq.yaml").touch()
    run(reloader.reload())
    assert ctx.seller(SELLER) is retired
    assert len(admin_messages(db)) == 1


# ------------------------------------------------------------------ concurrency


def test_reloads_never_interleave_and_coalesce(
    content_dir: Path, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, reloader = make_reloader(content_dir, db)
    active = 0
    peak = 0
    calls = 0
    guard = threading.Lock()

    def slow_load(root: Path) -> Any:
        nonlocal active, peak, calls
        with guard:
            active += 1
            calls += 1
            peak = max(peak, active)
        time.sleep(0.2)  # a slow disk: the other requests arrive meanwhile
        with guard:
            active -= 1
        return load_content(root)

    monkeypatch.setattr(reload_module, "load_content", slow_load)

    async def scenario() -> None:
        await asyncio.gather(*(reloader.reload() for _ in range(4)))

    run(scenario())
    assert peak == 1
    assert calls == 2  # the first, then one for the three that waited


def test_reload_does_not_block_the_loop(
    content_dir: Path, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    faq, reloader = make_reloader(content_dir, db)
    release = threading.Event()

    def held_load(root: Path) -> Any:
        assert release.wait(DEADLINE_S)
        return load_content(root)

    monkeypatch.setattr(reload_module, "load_content", held_load)
    set_answer(content_dir, NEW_ANSWER)

    async def scenario() -> None:
        task = asyncio.create_task(reloader.reload())
        ticks = 0
        for _ in range(5):  # the loop keeps running while the reload loads
            await asyncio.sleep(0.01)
            ticks += 1
        assert ticks == 5 and not task.done()
        assert OLD_ANSWER in answer(faq)  # nothing swapped half-way
        release.set()
        await task
        assert answer(faq) == NEW_ANSWER

    run(scenario())


# ------------------------------------------------------------------ watching


def test_watcher_reloads_once_per_burst_of_saves(content_dir: Path, db: Database) -> None:
    # Quiet time well above any pause between the writes of one save, even on a busy machine.
    faq, reloader = make_reloader(content_dir, db, quiet_ms=1000, max_wait_ms=5000)

    async def scenario() -> None:
        reloader.start()
        await asyncio.wait_for(reloader.watching.wait(), DEADLINE_S)
        # An editor saving: swap file, backup, then the file written in pieces.
        (content_dir / SELLER / ".faq.yaml.swp").write_bytes(b"swap")
        shutil.copy(faq_path(content_dir), content_dir / SELLER / "faq.yaml~")
        for answer_text in ("Первый вариант.", "Второй вариант.", NEW_ANSWER):
            set_answer(content_dir, answer_text)
        await until(lambda: reloader.reloads >= 1, "the first reload")
        assert answer(faq) == NEW_ANSWER
        # One more, separate edit: it makes the second reload, so the burst made one.
        set_answer(content_dir, "Последний вариант.")
        await until(lambda: reloader.reloads >= 2, "the second reload")
        assert reloader.reloads == 2
        assert answer(faq) == "Последний вариант."
        await reloader.stop()

    run(scenario())
    assert len(admin_messages(db)) == 2
