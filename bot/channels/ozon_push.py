"""Ozon push notifications: a buyer's new message wakes the seller's chat pass at once.

The seller sets the URL in the cabinet (Settings > Notifications > Push): the desk
serves ``POST OZON_PUSH_PATH`` on ``WEBHOOK_LISTEN:OZON_PUSH_PORT``. Ozon checks it with
``TYPE_PING`` and expects ``{"version", "name", "time"}``; every other type is answered
``{"result": true}``, and a body the desk cannot read ``4xx {"error": {...}}``, as
Ozon's documentation says.

A push is only a signal: the desk never trusts its body for what to answer. A
``TYPE_NEW_MESSAGE`` (or ``TYPE_UPDATE_MESSAGE``) of a buyer chat starts a pass over the
chats of the seller whose ``client_id`` is the push's ``seller_id`` (of every seller
with Ozon chats when none is: Ozon's documentation does not settle that the two ids
are the same), which reads the chats through the API as the timed pass does. So a push
that comes late, twice, forged or never changes nothing but how soon a buyer is
answered; the timed pass stays the reference.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

log = logging.getLogger(__name__)

#: Largest push body read (Ozon's are a few hundred bytes).
MAX_BODY_BYTES = 64 * 1024
#: Push types that may mean a buyer wrote.
WAKING = frozenset({"TYPE_NEW_MESSAGE", "TYPE_UPDATE_MESSAGE"})
NAME = "sellerdesk"
VERSION = "0.1.0"

#: Starts a pass for the sellers whose Client-Id is given (None: every seller).
Wake = Callable[[str | None], Awaitable[None]]


def _error(status: int, code: str, message: str) -> web.Response:
    body = {"error": {"code": code, "message": message, "details": ""}}
    return web.json_response(body, status=status)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class OzonPushServer:
    """Serves Ozon's pushes until :meth:`stop`."""

    def __init__(self, host: str, port: int, path: str, wake: Wake) -> None:
        self.host = host
        self.port = port
        self.path = "/" + path.lstrip("/")
        self._wake = wake
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        server = web.Application(client_max_size=MAX_BODY_BYTES)
        server.router.add_post(self.path, self.handle)
        self._runner = web.AppRunner(server, access_log=None, handle_signals=False)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, self.port).start()
        log.info("Ozon pushes on %s:%d%s", self.host, self.port, self.path)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def handle(self, request: web.Request) -> web.Response:
        try:
            body: Any = json.loads(await request.read())
        except (ValueError, UnicodeDecodeError, web.HTTPRequestEntityTooLarge):
            log.warning("Ozon push: a body that is not JSON")
            return _error(400, "ERROR_UNKNOWN", "the body is not JSON")
        if not isinstance(body, dict) or not isinstance(body.get("message_type"), str):
            log.warning("Ozon push without message_type")
            return _error(400, "ERROR_PARAMETER_VALUE_MISSED", "message_type is missing")
        kind = body["message_type"]
        if kind == "TYPE_PING":
            return web.json_response({"version": VERSION, "name": NAME, "time": _now()})
        if kind in WAKING and body.get("chat_type", "Buyer_Seller") == "Buyer_Seller":
            seller = body.get("seller_id")
            client_id = str(seller) if isinstance(seller, (str, int)) and seller != "" else None
            await self._wake(client_id)
        return web.json_response({"result": True})
