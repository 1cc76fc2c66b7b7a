"""The bot's Bot API client (bot/telegram_io/http.py) against loopback servers."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import pytest
from aiohttp import web
from telegram import InputFile
from telegram.error import NetworkError, TimedOut
from telegram.request import RequestData
from telegram.request._requestparameter import RequestParameter

from sellerdesk.bot.telegram_io.http import AiohttpRequest

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@asynccontextmanager
async def serve(handler: Handler) -> AsyncIterator[str]:
    """A loopback HTTP server on a free port; yields its base URL."""
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def data(**values: object) -> RequestData:
    return RequestData([RequestParameter.from_input(k, v) for k, v in values.items()])


def call(handler: Handler, method: str, *requests: RequestData | None) -> list[tuple[int, bytes]]:
    """Each of ``requests`` sent in turn as Bot API ``method`` to a loopback server
    answering with ``handler``, through one client; their statuses and bodies."""

    async def main() -> list[tuple[int, bytes]]:
        client = AiohttpRequest(2)
        await client.initialize()
        try:
            async with serve(handler) as url:
                return [
                    await client.do_request(f"{url}/botTOKEN/{method}", "POST", request)
                    for request in requests
                ]
        finally:
            await client.shutdown()

    return asyncio.run(main())


def test_fields_arrive_as_a_json_object_and_the_answer_comes_back() -> None:
    seen: dict[str, object] = {}

    async def handler(request: web.Request) -> web.Response:
        seen["type"] = request.content_type
        seen["body"] = await request.json()
        return web.json_response({"ok": True, "result": True}, status=200)

    markup = {"inline_keyboard": [[{"text": "Да", "callback_data": "faq:1"}]]}

    [(status, body)] = call(
        handler,
        "sendMessage",
        data(chat_id=5, text="Привет <b>", reply_markup=markup, protect_content=True),
    )
    assert status == 200 and b'"ok": true' in body
    assert seen["type"] == "application/json"
    # Numbers, booleans and objects keep their JSON types, as the Bot API documents them.
    assert seen["body"] == {
        "chat_id": 5,
        "text": "Привет <b>",
        "reply_markup": markup,
        "protect_content": True,
    }


def test_a_call_without_parameters_sends_no_body() -> None:
    seen: dict[str, object] = {}

    async def handler(request: web.Request) -> web.Response:
        seen["body"] = await request.read()
        return web.json_response({"ok": True, "result": True})

    call(handler, "getMe", data(), None)
    assert seen["body"] == b""


def test_a_file_goes_as_multipart_with_the_other_fields() -> None:
    seen: dict[str, object] = {}

    async def handler(request: web.Request) -> web.Response:
        form = await request.post()
        photo = form["photo"]
        assert isinstance(photo, web.FileField)
        seen["chat_id"] = form["chat_id"]
        seen["file"] = (photo.filename, photo.file.read())
        return web.json_response({"ok": True, "result": True})

    upload = InputFile(b"\x89PNG chart", filename="stats.png")
    call(handler, "sendPhoto", data(chat_id=-100, photo=upload))
    assert seen["chat_id"] == "-100"
    assert seen["file"] == ("stats.png", b"\x89PNG chart")


def test_no_answer_in_time_is_a_timeout() -> None:
    async def handler(request: web.Request) -> web.Response:
        await asyncio.sleep(1)
        return web.json_response({"ok": True, "result": True})

    async def main() -> None:
        request = AiohttpRequest(1, write_timeout=0)
        await request.initialize()
        try:
            async with serve(handler) as url:
                await request.do_request(f"{url}/botTOKEN/getMe", "POST", read_timeout=0.2)
        finally:
            await request.shutdown()

    with pytest.raises(TimedOut):
        asyncio.run(main())


def test_a_refused_connection_is_a_network_error() -> None:
    async def main() -> None:
        request = AiohttpRequest(1)
        await request.initialize()
        try:
            await request.do_request(f"http://127.0.0.1:{free_port()}/botTOKEN/getMe", "POST")
        finally:
            await request.shutdown()

    with pytest.raises(NetworkError) as caught:
        asyncio.run(main())
    assert not isinstance(caught.value, TimedOut)


def test_calls_beyond_the_pool_wait_for_a_connection() -> None:
    active = 0
    most = 0

    async def handler(request: web.Request) -> web.Response:
        nonlocal active, most
        active += 1
        most = max(most, active)
        await asyncio.sleep(0.05)
        active -= 1
        return web.json_response({"ok": True, "result": True})

    async def main() -> list[int]:
        request = AiohttpRequest(2)
        await request.initialize()
        try:
            async with serve(handler) as url:
                calls = [request.do_request(f"{url}/botTOKEN/getMe", "POST") for _ in range(6)]
                return [status for status, _ in await asyncio.gather(*calls)]
        finally:
            await request.shutdown()

    assert asyncio.run(main()) == [200] * 6
    assert most == 2


def test_a_call_before_initialize_is_refused() -> None:
    with pytest.raises(RuntimeError, match="not initialized"):
        asyncio.run(AiohttpRequest(1).do_request("http://127.0.0.1:9/x", "POST"))
