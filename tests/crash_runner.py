"""One bot process that polls and sends until it is killed, for the crash test.

Usage: ``python -m tests.crash_runner API_URL TOKEN DATABASE_URL CONTENT_DIR LEASE_S``.
Prints ``ready`` once it polls. It never stops by itself: the test kills it with
SIGKILL (no ``post_stop``, no release of claimed rows: what a crash leaves behind),
or with SIGTERM at the end.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

from bot.app import build_application
from bot.settings import Settings
from faq.content import load_content


async def main(api_url: str, token: str, database_url: str, content_dir: str, lease: float) -> None:
    settings = Settings(
        token=token,
        api_url=api_url,
        database_url=database_url,
        content_dir=Path(content_dir),
        admin_chat_id=-1009000000009,
        admin_user_ids=frozenset(),
        matcher="fuzzy",
        secret_key="test-secret",
        outbox_lease_seconds=lease,
    )
    app = build_application(settings, load_content(settings.content_dir))
    done = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, done.set)
    async with app:
        assert app.post_init is not None and app.updater is not None
        await app.post_init(app)
        await app.start()
        await app.updater.start_polling(poll_interval=0, timeout=1)
        print("ready", flush=True)
        await done.wait()
        await app.updater.stop()
        await app.stop()
        if app.post_stop is not None:
            await app.post_stop(app)
    if app.post_shutdown is not None:
        await app.post_shutdown(app)


if __name__ == "__main__":
    url, token, db_url, content, lease_s = sys.argv[1:6]
    asyncio.run(main(url, token, db_url, content, float(lease_s)))
