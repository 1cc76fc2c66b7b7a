"""The load benchmark's baseline: a bare python-telegram-bot application.

Usage: ``python -m bench.echo_bot API_URL TOKEN``. Prints ``ready`` once it polls,
then answers every private text message with a reply of a fixed text until SIGTERM:
no database, no matcher, no outbox. It polls and sends exactly as the desk does (the
same HTTP client, pool sizes and concurrent update handling), so the CPU it needs per
answer is the floor any PTB bot pays on this machine; ``bench.load`` reports the
desk's CPU per answer against it, measured in the same run.
"""

from __future__ import annotations

import asyncio
import gc
import signal
import sys

from telegram import ReplyParameters, Update
from telegram.ext import ApplicationBuilder, ContextTypes, MessageHandler, filters

from sellerdesk.app import HTTP_CONNECTIONS
from sellerdesk.bot.telegram_io.http import AiohttpRequest

ANSWER = "Доставка из Китая занимает 10–14 дней."


async def answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is None:
        return
    await context.bot.send_message(
        message.chat_id, ANSWER, reply_parameters=ReplyParameters(message.message_id)
    )


async def main(api_url: str, token: str) -> None:
    app = (
        ApplicationBuilder()
        .token(token)
        .base_url(f"{api_url}/bot")
        .base_file_url(f"{api_url}/file/bot")
        .request(AiohttpRequest(HTTP_CONNECTIONS))
        .get_updates_request(AiohttpRequest(1))
        .concurrent_updates(True)
        .build()
    )
    app.add_handler(MessageHandler(filters.ChatType.PRIVATE & filters.TEXT, answer))
    gc.freeze()
    done = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, done.set)
    async with app:
        assert app.updater is not None
        await app.start()
        await app.updater.start_polling(poll_interval=0, timeout=1)
        print("ready", flush=True)
        await done.wait()
        await app.updater.stop()
        await app.stop()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
