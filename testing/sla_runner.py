"""One bot process that only sweeps deadlines and sends the outbox (no polling), for
the test that runs two of them on one PostgreSQL database.

Usage: ``python -m testing.sla_runner API_URL TOKEN DATABASE_URL CONTENT_DIR SECONDS``.
Prints ``ready`` once its scheduler ticks, then runs for SECONDS and stops cleanly.
"""

from __future__ import annotations

import asyncio
import sys

from sellerdesk.app import build_application
from sellerdesk.faq.content.loader import load_content
from testing.runner_settings import UNPACED, runner_settings

#: Seconds between sweeps: short, so the two processes contend for the same rows.
TICK_S = 0.05


async def main(
    api_url: str, token: str, database_url: str, content_dir: str, seconds: float
) -> None:
    settings = runner_settings(
        api_url,
        token,
        database_url,
        content_dir,
        sla_tick_seconds=TICK_S,
        # Telegram's limits would stretch the reminders past the run; pacing has its
        # own tests.
        pacing=UNPACED,
    )
    app = build_application(settings, load_content(settings.content_dir))
    async with app:
        assert app.post_init is not None
        await app.post_init(app)
        await app.start()
        print("ready", flush=True)
        await asyncio.sleep(seconds)
        await app.stop()
        if app.post_stop is not None:
            await app.post_stop(app)
    if app.post_shutdown is not None:
        await app.post_shutdown(app)


if __name__ == "__main__":
    url, token, db_url, content, seconds = sys.argv[1:6]
    asyncio.run(main(url, token, db_url, content, float(seconds)))
