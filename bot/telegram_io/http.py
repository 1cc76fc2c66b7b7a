"""The bot's HTTP client for the Bot API: aiohttp behind PTB's request interface.

PTB's default client (httpx) cost more CPU per call than the rest of handling an FAQ
answer under load: its connection pool is scanned on every request, and a request
goes through many layers of pure Python. aiohttp keeps a pool per host and parses
responses in C, for a fraction of the cost. Everything above it stays PTB's: the
parameters are PTB's (sent as one JSON object, or a multipart form when a file goes
with them), and the answer is decoded by PTB, which also maps Telegram's errors
(429, 403, 400...) to its exceptions.

Timeouts follow PTB's meaning: ``connect`` and ``pool`` bound getting a connection,
``read`` waiting for the answer (getUpdates passes its long-poll time on top), and
``write`` sending the request.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

log = logging.getLogger(__name__)

#: PTB's own defaults (seconds), for calls that name no timeout of their own.
READ_TIMEOUT_S = 5.0
WRITE_TIMEOUT_S = 5.0
CONNECT_TIMEOUT_S = 5.0
POOL_TIMEOUT_S = 30.0
#: Uploads (the /stats chart) get longer to be written.
MEDIA_WRITE_TIMEOUT_S = 20.0


#: Timeout combinations remembered (calls name a few; getUpdates adds its poll time).
_TIMEOUTS_KEPT = 64
_JSON = {"Content-Type": "application/json"}

#: PTB's marker for "no timeout given for this call" (its class is not public).
_DEFAULT = type(BaseRequest.DEFAULT_NONE)


def _value(given: object, default: float | None) -> float | None:
    if isinstance(given, _DEFAULT):
        return default
    return None if given is None else float(given)  # type: ignore[arg-type]


class AiohttpRequest(BaseRequest):
    """Bot API calls over one :class:`aiohttp.ClientSession` with a bounded pool.

    Args:
        connections: connections kept open to the Bot API at most; calls beyond them
            wait up to ``pool_timeout`` for one to be free.
        read_timeout: default seconds to wait for an answer (None: no limit).
    """

    def __init__(
        self,
        connections: int = 16,
        *,
        read_timeout: float | None = READ_TIMEOUT_S,
        write_timeout: float | None = WRITE_TIMEOUT_S,
        connect_timeout: float | None = CONNECT_TIMEOUT_S,
        pool_timeout: float | None = POOL_TIMEOUT_S,
    ) -> None:
        if connections < 1:
            raise ValueError("connections must be at least 1")
        self.connections = connections
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._session: aiohttp.ClientSession | None = None
        self._timeouts: dict[tuple[float | None, ...], aiohttp.ClientTimeout] = {}

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            # A session belongs to the running loop: made here, not in __init__.
            connector = aiohttp.TCPConnector(limit=self.connections, limit_per_host=0)
            self._session = aiohttp.ClientSession(
                connector=connector,
                headers={"User-Agent": self.USER_AGENT},
                # No cookies, and no environment proxies read behind the admin's back.
                cookie_jar=aiohttp.DummyCookieJar(),
                trust_env=False,
            )

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    def _timeout(
        self, read: float | None, write: float | None, connect: float | None, pool: float | None
    ) -> aiohttp.ClientTimeout:
        """aiohttp's timeouts for PTB's four (a few combinations, made once each)."""
        key = (read, write, connect, pool)
        timeout = self._timeouts.get(key)
        if timeout is None:
            timeout = aiohttp.ClientTimeout(
                total=None,
                # aiohttp's "connect" includes waiting for a free connection in the pool.
                connect=None if pool is None and connect is None else (pool or 0) + (connect or 0),
                sock_connect=connect,
                # Between sending and the answer's last byte; writing rarely blocks on
                # loopback or a kept-alive connection, so both budgets count here.
                sock_read=None if read is None else read + (write or 0),
            )
            if len(self._timeouts) < _TIMEOUTS_KEPT:
                self._timeouts[key] = timeout
        return timeout

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: object = BaseRequest.DEFAULT_NONE,
        write_timeout: object = BaseRequest.DEFAULT_NONE,
        connect_timeout: object = BaseRequest.DEFAULT_NONE,
        pool_timeout: object = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("AiohttpRequest is not initialized")
        data: Any = None
        headers: dict[str, str] | None = None
        files = request_data is not None and request_data.contains_files
        if files:
            assert request_data is not None
            form = aiohttp.FormData()
            for name, value in request_data.json_parameters.items():
                form.add_field(name, value)
            for name, (filename, content, mime) in request_data.multipart_data.items():
                form.add_field(name, content, filename=filename, content_type=mime)
            data = form
        elif request_data is not None:
            # A JSON object, which the Bot API takes as it takes a form: one C call to
            # encode, where a form encodes every value again in Python.
            parameters = request_data.parameters
            if parameters:
                data = json.dumps(parameters, ensure_ascii=False).encode()
                headers = _JSON
        timeout = self._timeout(
            _value(read_timeout, self._read_timeout),
            _value(write_timeout, MEDIA_WRITE_TIMEOUT_S if files else self._write_timeout),
            _value(connect_timeout, self._connect_timeout),
            _value(pool_timeout, self._pool_timeout),
        )
        try:
            async with self._session.request(
                method, url, data=data, headers=headers, timeout=timeout
            ) as response:
                return response.status, await response.read()
        except TimeoutError as error:
            raise TimedOut from error
        except aiohttp.ClientError as error:
            raise NetworkError(f"aiohttp.{type(error).__name__}: {error}") from error
