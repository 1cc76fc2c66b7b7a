"""One bot process that polls and sends until it is killed, for the crash test.

Usage: ``python -m testing.crash_runner API_URL TOKEN DATABASE_URL CONTENT_DIR LEASE_S``.
Prints ``ready`` once it polls. It never stops by itself: the test kills it with
SIGKILL (no ``post_stop``, no release of claimed rows: what a crash leaves behind),
or with SIGTERM at the end.

The load benchmark runs the bot with it too. Environment:

* ``SELLERDESK_PROFILE=path``: profile the event loop and every worker thread with
  cProfile, timed by each thread's own CPU clock (waits for a lock, the GIL or a
  socket count nothing, so the figures add up to the process's CPU), and write the
  merged statistics to ``path`` on SIGTERM (read them with ``python -m pstats path``);
* ``SELLERDESK_PTB_POLLING=1``: python-telegram-bot's own polling instead of the desk's
  (the baseline of ``bench.crash``);
* ``SELLERDESK_MATCHER``: ``fuzzy`` (the default here) or ``hybrid``;
* ``SELLERDESK_HEALTH_PORT``: serve the health endpoint on this loopback port;
* ``SELLERDESK_NO_FOLDING=1``: every buyer text copied on its own, never folded (the
  baseline of ``bench.burst``);
* ``TELEGRAM_GLOBAL_RATE``, ``TELEGRAM_CHAT_RATE``, ``TELEGRAM_GROUP_RATE`` (and the
  burst settings, see :mod:`bot.settings`): the sender's pacing; unset, the defaults;
* ``OZON_API_URL``, ``OZON_POLL_SECONDS``, ``OZON_API_RPS``, ``OZON_PUSH_PORT``: the
  Ozon Seller API (a double) for sellers with an ``ozon`` section (the key: the
  variable they name), and the push endpoint.
"""

from __future__ import annotations

import asyncio
import cProfile
import gc
import os
import pstats
import signal
import sys
import threading
import time

from sellerdesk.app import build_application, start_polling
from sellerdesk.bot.settings import load_pacing
from sellerdesk.faq.content.loader import load_content
from testing.runner_settings import runner_settings


async def main(api_url: str, token: str, database_url: str, content_dir: str, lease: float) -> None:
    settings = runner_settings(
        api_url,
        token,
        database_url,
        content_dir,
        matcher=os.environ.get("SELLERDESK_MATCHER", "fuzzy"),
        outbox_lease_seconds=lease,
        pacing=load_pacing(dict(os.environ)),
        webhook_listen="127.0.0.1",
        webhook_health_port=int(os.environ.get("SELLERDESK_HEALTH_PORT") or 0),
        ozon_api_url=os.environ.get("OZON_API_URL", "http://127.0.0.1:9"),
        ozon_poll_seconds=float(os.environ.get("OZON_POLL_SECONDS") or 15),
        ozon_api_rps=float(os.environ.get("OZON_API_RPS") or 5),
        ozon_push_port=int(os.environ.get("OZON_PUSH_PORT") or 0),
    )
    if os.environ.get("SELLERDESK_NO_FOLDING"):  # the baseline of bench.burst
        from sellerdesk.bot.telegram_io.outbox import folding

        folding.fold_waiting = lambda *args, **kwargs: 0
        folding.fold_into_card = lambda *args, **kwargs: 0
    app = build_application(settings, load_content(settings.content_dir))
    gc.freeze()  # as ``sellerdesk run`` does: startup's objects stay out of collections
    done = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, done.set)
    async with app:
        assert app.post_init is not None
        await app.post_init(app)
        await app.start()
        if os.environ.get("SELLERDESK_PTB_POLLING"):  # the baseline of bench.crash
            assert app.updater is not None
            await app.updater.start_polling(poll_interval=0, timeout=1)
            print("ready", flush=True)
            await done.wait()
            await app.updater.stop()
        else:
            poller = await start_polling(app, timeout=1)
            print("ready", flush=True)
            await done.wait()
            await poller.stop()
        await app.stop()
        if app.post_stop is not None:
            await app.post_stop(app)
    if app.post_shutdown is not None:
        await app.post_shutdown(app)


class ThreadProfiles:
    """cProfile in every thread started from now on, merged with the main thread's."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.finished: list[cProfile.Profile] = []
        self.main = cProfile.Profile(time.thread_time)
        original_run = threading.Thread.run
        profiles = self

        def run(thread: threading.Thread) -> None:
            profile = cProfile.Profile(time.thread_time)
            profile.enable()
            try:
                original_run(thread)
            finally:
                profile.disable()
                with profiles.lock:
                    profiles.finished.append(profile)

        threading.Thread.run = run  # type: ignore[method-assign,assignment]

    def dump(self, path: str) -> None:
        stats = pstats.Stats(self.main)
        with self.lock:
            for profile in self.finished:
                stats.add(profile)
        stats.dump_stats(path)


def _run(args: list[str]) -> None:
    url, token, db_url, content, lease_s = args[:5]
    profile_path = os.environ.get("SELLERDESK_PROFILE")
    if not profile_path:
        asyncio.run(main(url, token, db_url, content, float(lease_s)))
        return
    profiles = ThreadProfiles()
    profiles.main.enable()
    try:
        asyncio.run(main(url, token, db_url, content, float(lease_s)))
    finally:
        profiles.main.disable()
        profiles.dump(profile_path)


if __name__ == "__main__":
    _run(sys.argv[1:6])
