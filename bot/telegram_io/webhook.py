"""The webhook server of ``sellerdesk run --webhook``: Telegram's POSTs, each answered
once its update is handled.

Telegram sends a chat's next update only after the previous one was answered.
python-telegram-bot's own webhook server answers as soon as an update is queued, so
with several processes behind a balancer a buyer's second message could be handled
by one process while the first was still being handled by another, and their copies
reach the staff topic in either order. Answered after the handling (its transaction
committed, its outbox rows stored), the chat's order Telegram keeps is the order the
desk records, whichever process gets each update.

The update goes through the application's update processor, as a polled one does
(one chat in order, chats concurrently). When its handling failed because the database
could not do the work (unreachable, restarting, a lost connection: see
``storage.db.unavailable``) even after the desk's own tries (about 15 s, see
``DeskService.call``), nothing of it was committed and the POST is answered 503:
Telegram delivers the update again later and nothing the buyer wrote is lost. Any
other failure is logged by the application's error handler and the update answered
200: Telegram would send it again and again, and hold back the chat's next updates
meanwhile. Requests without the secret of ``setWebhook`` get 403 before their body is
read.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from typing import Any

from aiohttp import web
from telegram import Update
from telegram.ext import Application

from sellerdesk.storage.db import unavailable

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
#: Bytes of one update at most; Telegram's are a few kilobytes (an album item, a long
#: text with entities). Larger bodies are refused before they are read whole.
MAX_BODY_BYTES = 1 << 20
#: Seconds a stopping server lets requests in progress finish.
SHUTDOWN_TIMEOUT_S = 30.0
#: Seconds a request's body may take to arrive (Telegram sends a few kilobytes at
#: once): a body trickled in byte by byte is answered 408 and its connection closed.
READ_TIMEOUT_S = 10.0
#: Seconds an idle keep-alive connection is kept open.
KEEPALIVE_S = 15.0
#: Requests handled at once; more are answered 503 at once (Telegram sends again).
MAX_REQUESTS = 256
#: Connections open at once (idle keep-alive ones included); more are closed as they
#: arrive. Telegram opens at most ``setWebhook``'s ``max_connections`` (40 by default,
#: at most 100); the rest is room for a balancer's own connections.
MAX_CONNECTIONS = 512


class _Refused(asyncio.Protocol):
    """A connection over :data:`MAX_CONNECTIONS`: closed as soon as it is made."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        transport.close()


class _CappedSite(web.BaseSite):
    """aiohttp's TCP site, with at most :data:`MAX_CONNECTIONS` connections open: a
    crowd of idle connections cannot use up the process's file descriptors."""

    def __init__(self, runner: web.BaseRunner, host: str, port: int) -> None:
        super().__init__(runner)
        self._host = host
        self._port = port
        #: Connections refused for being over the cap.
        self.refused = 0

    @property
    def name(self) -> str:
        return f"http://{self._host}:{self._port}"

    async def start(self) -> None:
        await super().start()
        server = self._runner.server
        assert server is not None

        def connection() -> asyncio.Protocol:
            if len(server.connections) >= MAX_CONNECTIONS:
                self.refused += 1
                return _Refused()
            return server()

        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(connection, self._host, self._port)


class WebhookServer:
    """Serves Telegram's POSTs to ``path`` on ``host:port`` until :meth:`stop`."""

    def __init__(
        self,
        app: Application,  # type: ignore[type-arg]
        host: str,
        port: int,
        path: str,
        secret: str,
    ) -> None:
        self.app = app
        self.host = host
        self.port = port
        self.path = "/" + path.lstrip("/")
        self._secret = secret.encode()
        self._runner: web.AppRunner | None = None
        #: Updates whose handling failed on an unavailable database (see the module).
        self._unavailable: set[int] = set()
        #: Requests being handled now (see MAX_REQUESTS).
        self._busy = 0
        app.add_error_handler(self._note_failure)

    async def _note_failure(self, update: object, context: Any) -> None:
        error = context.error
        if isinstance(update, Update) and error is not None and unavailable(error):
            self._unavailable.add(update.update_id)

    async def start(self) -> None:
        server = web.Application(client_max_size=MAX_BODY_BYTES)
        server.router.add_post(self.path, self._post)
        self._runner = web.AppRunner(
            server,
            access_log=None,
            shutdown_timeout=SHUTDOWN_TIMEOUT_S,
            handle_signals=False,
            keepalive_timeout=KEEPALIVE_S,
        )
        await self._runner.setup()
        await _CappedSite(self._runner, self.host, self.port).start()
        log.info("webhook listening on %s:%d%s", self.host, self.port, self.path)

    async def stop(self) -> None:
        """Stop taking requests; those in progress finish first."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _post(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, self._secret):
            return web.Response(status=403)
        if self._busy >= MAX_REQUESTS:
            return web.Response(status=503)  # Telegram delivers it again later
        self._busy += 1
        try:
            return await self._handle(request)
        finally:
            self._busy -= 1

    async def _handle(self, request: web.Request) -> web.Response:
        try:
            body = await asyncio.wait_for(request.read(), READ_TIMEOUT_S)
        except TimeoutError:
            log.warning("webhook: a request's body did not arrive in %.0f s", READ_TIMEOUT_S)
            return web.Response(status=408, headers={"Connection": "close"})
        try:
            data: Any = json.loads(body)
            update = Update.de_json(data, self.app.bot)
        except web.HTTPException:  # a body over MAX_BODY_BYTES: 413
            raise
        except Exception:  # not JSON, or not an update: Telegram never sends such
            log.warning("webhook: a request that is not an update was refused")
            return web.Response(status=400)
        processor = self.app.update_processor
        # Shielded: a client that hangs up must not cut a handling short halfway.
        await asyncio.shield(processor.process_update(update, self.app.process_update(update)))
        if update.update_id in self._unavailable:
            self._unavailable.discard(update.update_id)
            return web.Response(status=503)  # Telegram delivers it again later
        return web.Response(status=200)
