"""Live reload of seller content: the files under ``CONTENT_DIR`` change, the desk
answers from the new version, and the admin chat hears what happened.

A reload loads the content and builds the matchers (embeddings included) in a worker
thread, then swaps the whole :class:`bot.desk.answers.ContentSnapshot` in one step. Broken
files never replace working content: the desk keeps serving the last good version
and the admin chat gets every problem with its file and line, once per distinct set
of problems. Reloads run one at a time; requests made while one runs are served by
the next, which reads the files as they are then (the latest edit wins).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from watchfiles import Change, awatch

from sellerdesk.bot.database import Database
from sellerdesk.bot.desk import outgoing
from sellerdesk.bot.desk.answers import ContentSnapshot, FaqAnswers
from sellerdesk.bot.desk.cases import escape
from sellerdesk.bot.desk.outgoing import Side
from sellerdesk.bot.i18n.texts import text
from sellerdesk.faq.content.errors import ContentError, Problem
from sellerdesk.faq.content.loader import SELLER_FILES, load_content
from sellerdesk.faq.content.model import Content, Seller
from sellerdesk.faq.matching.matcher import Matcher
from sellerdesk.storage.repo import cases as cases_repo
from sellerdesk.storage.repo import sellers as sellers_repo

log = logging.getLogger(__name__)

#: Telegram's limit on a message's text, in characters.
MESSAGE_CHARS = 4096
#: Quiet time after the last file event before a reload starts (editors and uploads
#: write a file several times, or several files, within a fraction of a second).
DEFAULT_QUIET_MS = 500
#: Longest a stream of file events may delay a reload.
DEFAULT_MAX_WAIT_MS = 5000
#: Pause before watching again when the watcher fails (the folder was moved away).
WATCH_RETRY_S = 5.0
#: Names editors and tools write next to the real file: swap, backup, lock and
#: temporary files. Changes to them never trigger a reload.
IGNORED_SUFFIXES = (".swp", ".swo", ".swx", ".swn", ".tmp", ".bak", ".orig", "~")
IGNORED_PREFIXES = (".", "#")


def is_content_change(root: Path, path: Path) -> bool:
    """Whether a change of ``path`` may change the content loaded from ``root``.

    Content is a seller's folder and the files the loader reads in it
    (:data:`faq.content.loader.SELLER_FILES`). Anything else is not: hidden entries
    (``.faq.yaml.swp``, ``.#faq.yaml``, ``.git``), backups (``faq.yaml~``, ``*.bak``),
    Emacs autosaves (``#faq.yaml#``), folders the loader skips (``_drafts``), notes and
    a database or log file kept beside the folders (a SQLite file there changes at
    every message).
    """
    try:
        parts = path.relative_to(root).parts
    except ValueError:
        return False
    if not parts:
        return True  # the content directory itself
    if parts[0].startswith("_"):
        return False
    for part in parts:
        if part.startswith(IGNORED_PREFIXES) or part.endswith(IGNORED_SUFFIXES):
            return False
    if len(parts) == 1:
        # A seller's folder made, renamed or removed. A removed one can no longer be
        # told from a file: folder names (seller ids) have no dot, file names do.
        return path.is_dir() or (not path.exists() and "." not in parts[0])
    return len(parts) == 2 and parts[1] in SELLER_FILES


@dataclass(frozen=True)
class Counts:
    """How many of one kind of thing the new content has, and how that changed."""

    total: int
    added: int = 0
    removed: int = 0
    changed: int = 0

    @property
    def any_change(self) -> bool:
        return bool(self.added or self.removed or self.changed)


def count_changes(old: Mapping[Any, object], new: Mapping[Any, object]) -> Counts:
    """Compare two keyed collections: what was added, removed, changed."""
    common = old.keys() & new.keys()
    return Counts(
        total=len(new),
        added=len(new.keys() - old.keys()),
        removed=len(old.keys() - new.keys()),
        changed=sum(1 for key in common if old[key] != new[key]),
    )


@dataclass(frozen=True)
class ContentChanges:
    """What a reload changed: sellers, FAQ entries and products."""

    sellers: Counts
    entries: Counts
    products: Counts
    #: Sellers removed by this reload that still have open cases: seller id -> count.
    retired: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def any_change(self) -> bool:
        return self.sellers.any_change or self.entries.any_change or self.products.any_change


def compare(old: Content, new: Content) -> ContentChanges:
    """The changes from ``old`` to ``new``, counted per seller, entry and product."""

    def entries(content: Content) -> dict[tuple[str, str], object]:
        return {(s.id, e.id): e for s in content.sellers.values() for e in s.entries}

    def products(content: Content) -> dict[tuple[str, str], object]:
        return {(s.id, p.offer_id): p for s in content.sellers.values() for p in s.products}

    return ContentChanges(
        sellers=count_changes(old.sellers, new.sellers),
        entries=count_changes(entries(old), entries(new)),
        products=count_changes(products(old), products(new)),
    )


def problem_line(root: Path, problem: Problem) -> str:
    """``seller/faq.yaml:12: key: message``, the path relative to the content root."""
    try:
        where = str(problem.path.relative_to(root))
    except ValueError:
        where = str(problem.path)
    if problem.line:
        where += f":{problem.line}"
    key = f" {problem.key}:" if problem.key else ""
    return f"{where}:{key} {problem.message}"


def _telegram_length(value: str) -> int:
    """Length as Telegram counts it (UTF-16 code units)."""
    return len(value.encode("utf-16-le")) // 2


def problems_message(lines: Iterable[str], lang: str, limit: int = MESSAGE_CHARS) -> str:
    """The admin chat's HTML message about a failed reload, every problem on its own
    line, cut to fit ``limit`` with "and N more"."""
    problems = list(lines)
    head = f"<b>{escape(text('reload_failed', lang, count=str(len(problems))))}</b>"
    body = [f"• {escape(line)}" for line in problems]
    for shown in range(len(body), -1, -1):
        rest = len(body) - shown
        tail = [escape(text("reload_more", lang, count=str(rest)))] if rest else []
        candidate = "\n".join([head, *body[:shown], *tail])
        if _telegram_length(candidate) <= limit:
            return candidate
    return head


def summary_message(
    changes: ContentChanges, names: Mapping[str, str], lang: str, *, cleared: bool
) -> str:
    """The admin chat's HTML message about a successful reload."""

    def counts(c: Counts) -> str:
        return text(
            "reload_counts",
            lang,
            total=str(c.total),
            added=str(c.added),
            removed=str(c.removed),
            changed=str(c.changed),
        )

    summary = text(
        "reload_summary",
        lang,
        sellers=counts(changes.sellers),
        entries=counts(changes.entries),
        products=counts(changes.products),
    )
    key = "reload_cleared" if cleared else "reload_done"
    lines = [escape(text(key, lang, summary=summary))]
    for seller_id, open_cases in sorted(changes.retired.items()):
        name = names.get(seller_id, seller_id)
        lines.append(escape(text("reload_retired", lang, seller=name, count=str(open_cases))))
    return "\n".join(lines)


@dataclass(frozen=True)
class ReloadResult:
    """The outcome of one reload: the changes, or the problems that stopped it."""

    changes: ContentChanges | None = None
    problems: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.changes is not None


class ContentReloader:
    """Reloads the content behind ``faq.live`` on request and when files change.

    Args:
        faq: the desk's FAQ side; its ``live`` holder is what a reload swaps.
        db: for the open cases of removed sellers and for the admin chat's messages
            (queued in the outbox like every message).
        root: the content directory.
        admin_chat_id: where results go; None: the log only.
        language: the language of the admin chat's texts.
        on_swap: called on the event loop right after a new snapshot is published.
        on_queued: called after a message was queued (wakes the outbox sender).
    """

    def __init__(
        self,
        faq: FaqAnswers,
        db: Database,
        root: Path,
        admin_chat_id: int | None,
        language: str,
        *,
        on_swap: Callable[[ContentSnapshot], None] | None = None,
        on_queued: Callable[[], None] | None = None,
        quiet_ms: int = DEFAULT_QUIET_MS,
        max_wait_ms: int = DEFAULT_MAX_WAIT_MS,
    ) -> None:
        self.faq = faq
        self.db = db
        self.root = root
        self._watched = root.resolve()
        self.admin_chat_id = admin_chat_id
        self.language = language
        self.on_swap = on_swap
        self.on_queued = on_queued
        self.quiet_ms = quiet_ms
        self.max_wait_ms = max_wait_ms
        #: Reloads finished (successful or not), for tests and the log.
        self.reloads = 0
        self._lock = asyncio.Lock()
        self._requested = 0
        self._served = 0
        self._last: ReloadResult | None = None
        #: Problems last posted to the admin chat; None while the content is good.
        self._reported: tuple[str, ...] | None = None
        self._stop = asyncio.Event()
        #: Set while the files are being watched (a change made after it is seen).
        self.watching = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    # ------------------------------------------------------------------ reloading

    async def reload(self, *, reply_to: int | None = None) -> ReloadResult:
        """Reload now (or join the reload that will read the files after this call).

        Args:
            reply_to: the admin's ``/reload`` message: the result is always posted,
                as a reply to it, even when it repeats the last one.
        """
        self._requested += 1
        ticket = self._requested
        async with self._lock:
            if self._served >= ticket and self._last is not None and reply_to is None:
                return self._last  # a reload that started after this request covered it
            self._served = self._requested
            result = await self._reload_once()
            self._last = result
            self.reloads += 1
            await self._report(result, reply_to)
            return result

    async def _reload_once(self) -> ReloadResult:
        try:
            snapshot, changes = await asyncio.to_thread(self._build)
        except ContentError as exc:
            problems = tuple(problem_line(self.root, p) for p in exc.problems)
            log.warning(
                "content not reloaded, %d problem(s):\n%s", len(problems), "\n".join(problems)
            )
            return ReloadResult(problems=problems)
        except Exception as exc:  # a reload must never take the desk down
            log.exception("content reload failed")
            return ReloadResult(problems=(f"{type(exc).__name__}: {exc}",))
        self.faq.live.swap(snapshot)
        if self.on_swap is not None:
            self.on_swap(snapshot)
        log.info(
            "content reloaded: sellers %s, entries %s, products %s",
            changes.sellers,
            changes.entries,
            changes.products,
        )
        return ReloadResult(changes=changes)

    def _build(self) -> tuple[ContentSnapshot, ContentChanges]:
        """Load the files and build what the new snapshot needs (blocking)."""
        new = load_content(self.root)
        old = self.faq.live.current
        sellers: dict[str, Seller] = {}
        matchers: dict[str, Matcher] = {}
        for seller_id, seller in new.sellers.items():
            before = old.content.sellers.get(seller_id)
            if before is not None and before == seller:
                seller = before  # unchanged: keep the object its matcher was built for
            sellers[seller_id] = seller
            matchers[seller_id] = old.cached_matcher(seller) or self.faq.build_matcher(seller)
        content = Content(sellers=sellers, root=new.root)
        retired, open_cases = self._retire(old, content, matchers)
        changes = compare(old.content, content)
        removed_now = {sid: n for sid, n in open_cases.items() if sid in old.content.sellers}
        snapshot = ContentSnapshot(content, MappingProxyType(retired), matchers)
        return snapshot, ContentChanges(
            changes.sellers, changes.entries, changes.products, MappingProxyType(removed_now)
        )

    def _retire(
        self, old: ContentSnapshot, content: Content, matchers: dict[str, Matcher]
    ) -> tuple[dict[str, Seller], dict[str, int]]:
        """Sellers gone from the files that still have open cases (kept for those
        cases), with their open case counts; new sellers are recorded as seen."""
        gone = (old.content.sellers.keys() | old.retired.keys()) - content.sellers.keys()
        retired: dict[str, Seller] = {}
        open_cases: dict[str, int] = {}
        with self.db.transaction() as session:
            for seller_id in content.sellers.keys() - old.content.sellers.keys():
                sellers_repo.mark_seller_seen(session, seller_id)
            for seller_id in sorted(gone):
                count = len(cases_repo.list_open_cases(session, seller_id))
                seller = old.seller(seller_id)
                if count and seller is not None:
                    retired[seller_id], open_cases[seller_id] = seller, count
                    cached = old.cached_matcher(seller)
                    if cached is not None:
                        matchers[seller_id] = cached
        for seller_id, count in open_cases.items():
            log.warning("seller %s removed from the files with %d open case(s)", seller_id, count)
        return retired, open_cases

    # ------------------------------------------------------------------ reporting

    async def _report(self, result: ReloadResult, reply_to: int | None) -> None:
        message = self._message(result, asked=reply_to is not None)
        if message is None or self.admin_chat_id is None:
            return
        await asyncio.to_thread(self._queue, self.admin_chat_id, message, reply_to)
        if self.on_queued is not None:
            self.on_queued()

    def _message(self, result: ReloadResult, *, asked: bool) -> str | None:
        """What to tell the admin chat, if anything; remembers what it reported."""
        if result.changes is None:
            repeated = result.problems == self._reported
            self._reported = result.problems
            return (
                None if repeated and not asked else problems_message(result.problems, self.language)
            )
        cleared = self._reported is not None
        self._reported = None
        changes = result.changes
        if not (cleared or asked or changes.any_change):
            return None  # a save that changed nothing (a touched file)
        snapshot = self.faq.live.current
        names = {sid: s.name for sid, s in snapshot.retired.items()}
        return summary_message(changes, names, self.language, cleared=cleared)

    def _queue(self, chat_id: int, message: str, reply_to: int | None) -> None:
        with self.db.transaction() as session:
            outgoing.send_text(
                session,
                chat_id=chat_id,
                text=message,
                side=Side.ADMIN,
                html=True,
                reply_to=reply_to,
            )

    # ------------------------------------------------------------------ watching

    def start(self) -> asyncio.Task[None]:
        """Watch the content directory from a task on the running loop."""
        if self._task is None or self._task.done():
            self._stop.clear()
            self._task = asyncio.create_task(self.watch(), name="content-watch")
        return self._task

    async def stop(self) -> None:
        """Stop watching; waits for a reload in progress to finish."""
        self._stop.set()
        self.watching.clear()
        task, self._task = self._task, None
        if task is not None:
            await task

    async def watch(self) -> None:
        """Reload after each burst of changes to content files, until :meth:`stop`."""
        log.info("watching %s for content changes", self.root)
        while not self._stop.is_set():
            try:
                await self._watch_until_stopped()
            except Exception:
                log.exception("watching %s failed; trying again", self.root)
                self.watching.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), WATCH_RETRY_S)

    async def _watch_until_stopped(self) -> None:
        changes = awatch(
            self._watched,
            watch_filter=self._relevant,
            step=self.quiet_ms,
            debounce=self.max_wait_ms,
            stop_event=self._stop,
        )
        batch = asyncio.ensure_future(anext(changes))
        # One turn of the loop runs the watcher up to its first wait: by then the
        # operating system watch is in place and no later change can be missed.
        await asyncio.sleep(0)
        self.watching.set()
        try:
            while True:
                try:
                    found = await batch
                except StopAsyncIteration:
                    return
                log.info("content files changed: %s", ", ".join(_names(found, self._watched)))
                await self.reload()
                batch = asyncio.ensure_future(anext(changes))
        finally:
            # Cancelling the pending wait ends the generator, which closes the OS watch.
            batch.cancel()

    def _relevant(self, change: Change, path: str) -> bool:
        return is_content_change(self._watched, Path(path).resolve())


def _names(changes: set[tuple[Change, str]], root: Path) -> list[str]:
    names = set()
    for _, path in changes:
        try:
            names.add(str(Path(path).relative_to(root)))
        except ValueError:
            names.add(path)
    return sorted(names)
