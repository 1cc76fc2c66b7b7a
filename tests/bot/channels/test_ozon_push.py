"""Ozon's pushes: the check Ozon makes, bad bodies, and a buyer's message answered at
once instead of at the next timed look."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from pathlib import Path
from typing import Any

import httpx

from sellerdesk.bot.channels.ozon_push import OzonPushServer
from testing.ozonapi import OzonApiDouble
from tests.bot.channels.test_ozon_chats import KNOWN, _answer, _desk


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_the_check_and_bad_bodies_get_the_answers_ozon_expects() -> None:
    woken: list[str | None] = []

    async def wake(client_id: str | None) -> None:
        woken.append(client_id)

    async def scenario() -> list[tuple[int, Any]]:
        port = _free_port()
        server = OzonPushServer("127.0.0.1", port, "/ozon/push", wake)
        await server.start()
        url = f"http://127.0.0.1:{port}/ozon/push"
        bodies: list[bytes] = [
            json.dumps({"message_type": "TYPE_PING", "time": "2026-12-06T10:00:00Z"}).encode(),
            json.dumps(
                {"message_type": "TYPE_NEW_MESSAGE", "chat_type": "Buyer_Seller", "seller_id": 7}
            ).encode(),
            json.dumps(
                {"message_type": "TYPE_NEW_MESSAGE", "chat_type": "Seller_Support"}
            ).encode(),
            json.dumps({"message_type": "TYPE_CHAT_CLOSED", "chat_id": "x"}).encode(),
            b"{not json",
            json.dumps({"chat_id": "x"}).encode(),
            json.dumps(["TYPE_PING"]).encode(),
        ]
        try:
            async with httpx.AsyncClient() as client:
                answers = []
                for body in bodies:
                    response = await client.post(
                        url, content=body, headers={"Content-Type": "application/json"}
                    )
                    answers.append((response.status_code, response.json()))
                return answers
        finally:
            await server.stop()

    answers = asyncio.run(scenario())
    ping = answers[0][1]
    assert answers[0][0] == 200 and ping["name"] == "sellerdesk" and ping["version"]
    assert ping["time"].endswith("Z")
    assert answers[1:4] == [(200, {"result": True})] * 3
    assert [status for status, _ in answers[4:]] == [400, 400, 400]
    assert answers[4][1]["error"]["code"] == "ERROR_UNKNOWN"
    assert answers[5][1]["error"]["code"] == "ERROR_PARAMETER_VALUE_MISSED"
    assert woken == ["7"]  # only the buyer chat's new message wakes a pass


def test_a_pushed_message_is_answered_without_waiting_for_the_timed_look(
    tmp_path: Path,
) -> None:
    with OzonApiDouble() as api:
        chats = _desk(tmp_path, api)

        async def scenario() -> float:
            port = _free_port()
            server = OzonPushServer("127.0.0.1", port, "/ozon/push", chats.wake)
            await server.start()
            api.push_url = f"http://127.0.0.1:{port}/ozon/push"
            try:
                started = time.monotonic()
                await asyncio.to_thread(api.buyer_writes, "chat-1", KNOWN)
                await asyncio.to_thread(api.wait_for, lambda: api.sent_in("chat-1"), 5.0)
                return time.monotonic() - started
            finally:
                await server.stop()
                await chats.close()

        took = asyncio.run(scenario())
        assert took < 2.0 and api.pushed == [200]
        assert api.sent_in("chat-1")[0] == _answer(chats, KNOWN)[: len(api.sent_in("chat-1")[0])]
