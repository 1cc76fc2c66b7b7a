"""The desk's webhook server in process: when Telegram is asked to deliver again."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy.exc import OperationalError
from telegram import Update
from telegram.ext import ApplicationBuilder, ContextTypes, MessageHandler, filters

from sellerdesk.bot.telegram_io import webhook
from sellerdesk.bot.telegram_io.webhook import WebhookServer
from testing.botapi import BotApiDouble
from testing.botapi.webhook import post_update, webhook_update
from testing.processes import free_port as _free_port
from tests.e2e.harness import BUYER

SECRET = "server-Secret-1"


@pytest.mark.parametrize(
    ("failure", "first_status"),
    [
        (OperationalError("SELECT 1", {}, Exception("server closed the connection")), 503),
        (ValueError("a bug in a handler"), 200),
    ],
)
def test_an_update_is_delivered_again_only_when_the_database_was_unavailable(
    api: BotApiDouble, failure: Exception, first_status: int
) -> None:
    handled: list[int] = []

    async def handler(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        handled.append(update.update_id)
        if len(handled) == 1:
            raise failure

    async def errors(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        pass  # the desk logs here; the test keeps quiet

    app = ApplicationBuilder().token(api.token).base_url(f"{api.url}/bot").build()
    app.add_handler(MessageHandler(filters.ALL, handler))
    app.add_error_handler(errors)
    port = _free_port()
    message = api.user_sends_text(BUYER, "где мой заказ?")
    assert message.update_id is not None
    update = webhook_update(api, message.update_id)

    async def main() -> list[int]:
        async with app:
            await app.start()
            server = WebhookServer(app, "127.0.0.1", port, "/hook", SECRET)
            await server.start()
            url = f"http://127.0.0.1:{port}/hook"
            try:
                first = await asyncio.to_thread(post_update, url, update, SECRET)
                # Telegram posts it again after a non-2xx answer.
                again = await asyncio.to_thread(post_update, url, update, SECRET)
                assert await asyncio.to_thread(post_update, url, update, "wrong") == 403
            finally:
                await server.stop()
                await app.stop()
        return [first, again]

    statuses = asyncio.run(main())
    assert statuses == [first_status, 200]
    # Handled once more when asked again, and only then answered 200.
    assert handled == [update["update_id"]] * 2


def test_a_trickled_body_is_cut_off(api: BotApiDouble, monkeypatch: pytest.MonkeyPatch) -> None:
    """A client that sends its body a byte at a time holds nothing for long: 408."""
    monkeypatch.setattr(webhook, "READ_TIMEOUT_S", 0.5)
    app = ApplicationBuilder().token(api.token).base_url(f"{api.url}/bot").build()
    port = _free_port()

    async def main() -> bytes:
        async with app:
            await app.start()
            server = WebhookServer(app, "127.0.0.1", port, "/hook", SECRET)
            await server.start()
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.write(
                    b"POST /hook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    + f"{webhook.SECRET_HEADER}: {SECRET}\r\n".encode()
                    + b"Content-Length: 100\r\n\r\n{"
                )
                await writer.drain()
                answer = await asyncio.wait_for(reader.read(100), 5)
                writer.close()
                return answer
            finally:
                await server.stop()
                await app.stop()

    assert asyncio.run(main()).startswith(b"HTTP/1.1 408")


def test_idle_connections_over_the_cap_are_closed(
    api: BotApiDouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A crowd of idle connections takes at most MAX_CONNECTIONS; the rest are closed at
    once, and a POST still gets through once one of them goes."""
    monkeypatch.setattr(webhook, "MAX_CONNECTIONS", 5)
    app = ApplicationBuilder().token(api.token).base_url(f"{api.url}/bot").build()
    port = _free_port()

    async def main() -> tuple[list[bytes], int]:
        async with app:
            await app.start()
            server = WebhookServer(app, "127.0.0.1", port, "/hook", SECRET)
            await server.start()
            try:
                idle = [await asyncio.open_connection("127.0.0.1", port) for _ in range(8)]
                # Closed ones read EOF at once; kept ones wait (for a request).
                reads = []
                for reader, _ in idle:
                    try:
                        reads.append(await asyncio.wait_for(reader.read(10), 0.3))
                    except TimeoutError:
                        reads.append(b"open")
                for _, writer in idle:
                    writer.close()
                await asyncio.sleep(0.2)
                status = await asyncio.to_thread(
                    post_update, f"http://127.0.0.1:{port}/hook", {}, "x"
                )
                return reads, status
            finally:
                await server.stop()
                await app.stop()

    reads, status = asyncio.run(main())
    assert reads.count(b"open") == 5
    assert reads.count(b"") == 3
    assert status == 403  # served again: the wrong secret's answer
