"""A local stand-in for the Telegram Bot API server, for end-to-end tests over real HTTP.

The bot under test talks to :class:`BotApiDouble` exactly as it talks to Telegram: it is
configured with the double's root URL (``TELEGRAM_API_URL``) and calls
``<root>/bot<token>/<method>`` and ``<root>/file/bot<token>/<file_path>``.  With
python-telegram-bot::

    with BotApiDouble() as api:
        api.add_user(1001, "Anna")
        api.add_group(-1002000000001, "Support", is_forum=True, members=[2001])
        bot = telegram.Bot(api.token, base_url=api.base_url, base_file_url=api.base_file_url)
        ...  # start the real application against it
        api.user_sends_text(1001, "/start order-77")        # an update for getUpdates
        reply = api.wait_for_message(1001)                  # what the bot answered
        assert "order-77" in reply.text
        topic = api.wait_for(lambda: api.topics(-1002000000001))[0]
        api.delete_topic(-1002000000001, topic.thread_id)   # staff deleted the topic ...
        api.fail("sendMessage", 429, retry_after=3)         # ... and Telegram throttles

What it does:

* Serves on ``127.0.0.1`` on a free port from a background thread
  (``http.server.ThreadingHTTPServer``); ``start()``/``stop()`` or ``with``.  ``stop()``
  wakes long polls and closes open connections; it returns within a second.
* Decodes query strings, JSON, url-encoded forms and multipart uploads (``attach://``),
  answers with Telegram's envelope, checks the token (401 for a wrong one, 404 for a
  malformed one or an unknown method), and treats method names case-insensitively.
* Implements the methods the bot uses with Telegram's semantics and error messages
  (see :mod:`testing.botapi.state`), keeping chats, messages, topics and files.
* ``fail()`` and ``delay()`` inject errors (429 with ``retry_after``, 5xx, dropped
  connections, errors after the method took effect) and latency.
* ``calls``, ``calls_to()``, ``messages_in()``, ``topics()`` and ``wait_for()`` let the
  test assert; a timed-out ``wait_for`` raises ``AssertionError`` with the recent calls.

Every wait is bounded: long polls by their ``timeout``, ``wait_for`` by its ``timeout``,
delays by ``stop()``.  ``wait_for*`` block the calling thread: when the bot's event loop
runs in the test's thread, call them through ``await asyncio.to_thread(api.wait_for, ...)``
or the bot cannot make progress (the wait then fails after its timeout, it never hangs).
``internal_errors`` lists exceptions raised inside the double (answered as 500), so a
fixture can assert it stays empty.

Not modelled: delivery to webhooks (setWebhook is recorded and blocks getUpdates, as in
Telegram, but nothing is POSTed: tests post updates with :mod:`testing.botapi.webhook`),
inline mode, payments, channels, the General topic as
thread 1, callback query expiry, the 48-hour edit window.  Error texts are Telegram's
where they are well known; a few rarer ones are marked approximate in the code.

Longer than ~500 lines on purpose: the HTTP server, its faults and its waits are one
object tests drive.
"""

from __future__ import annotations

import contextlib
import math
import re
import socket
import threading
import time
from collections.abc import Callable, Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, TypeVar, cast
from urllib.parse import unquote

from testing.botapi.business import BusinessActions
from testing.botapi.model import (
    ApiError,
    Call,
    Delay,
    Exchange,
    Fault,
    RateLimit,
    StoredMessage,
)
from testing.botapi.state import DEFAULT_TOKEN
from testing.botapi.wire import JSON, WireError, decode_request, dump_json, ok_envelope

T = TypeVar("T")

_API_PATH = re.compile(r"^/bot([^/]*)/([^/]*)/?$")
_FILE_PATH = re.compile(r"^/file/bot([^/]*)/(.+)$")
_TOKEN_FORMAT = re.compile(r"^\d+:[A-Za-z0-9_-]+$")
# Methods that put messages into a chat, which Telegram's flood control counts.
SEND_METHODS = frozenset(
    {
        "sendmessage",
        "sendphoto",
        "senddocument",
        "sendvoice",
        "sendvideo",
        "sendaudio",
        "sendsticker",
        "sendlocation",
        "sendmediagroup",
        "copymessage",
        "copymessages",
        "forwardmessage",
    }
)


def _chat_kind(chat: object) -> str:
    """ "private" for a user's chat (a positive id), "group" otherwise."""
    return "private" if isinstance(chat, int) and chat > 0 else "group"


_DEFAULT_DESCRIPTIONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


class _Response:
    """What to send back: a status and a JSON or raw body, or nothing (dropped)."""

    __slots__ = ("body", "content_type", "drop", "status")

    def __init__(
        self,
        status: int = 200,
        body: bytes = b"",
        content_type: str = "application/json",
        *,
        drop: bool = False,
    ) -> None:
        self.status = status
        self.body = body
        self.content_type = content_type
        self.drop = drop

    @classmethod
    def json(cls, status: int, payload: JSON) -> _Response:
        return cls(status, dump_json(payload))

    @classmethod
    def error(cls, error: ApiError) -> _Response:
        return cls.json(error.error_code, error.envelope())


class BotApiDouble(BusinessActions):
    """The Bot API over HTTP on localhost, with fault injection and assertions.

    ``token`` is the only token accepted; its numeric prefix is the bot's user id.
    ``clock`` supplies message dates (seconds since the epoch).
    """

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        bot_username: str = "sellerdesk_test_bot",
        bot_name: str = "SellerDesk",
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(token, bot_username=bot_username, bot_name=bot_name, clock=clock)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._calls: list[Call] = []
        self._history: list[Exchange] = []
        self._faults: list[Fault] = []
        self._delays: list[Delay] = []
        self._rate_limits: list[RateLimit] = []
        self._connections: set[socket.socket] = set()
        self.internal_errors: list[str] = []

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> BotApiDouble:
        """Bind 127.0.0.1 on a free port and serve from a daemon thread."""
        if self._server is not None:
            raise RuntimeError("the double is already started")
        if self._stopping.is_set():
            raise RuntimeError("a stopped double cannot be restarted; create a new one")
        self._server = _Server(("127.0.0.1", 0), self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.01},
            name="botapi-double",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving: wake long polls and delays, close connections, join the thread."""
        self._stopping.set()
        with self._cond:
            self._cond.notify_all()
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=1.0)

    def __enter__(self) -> BotApiDouble:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The TCP port the double listens on."""
        if self._server is None:
            raise RuntimeError("the double is not started")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """The API root to configure as ``TELEGRAM_API_URL``, e.g. ``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        """PTB's ``base_url``: the root followed by ``/bot`` (PTB appends the token)."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        """PTB's ``base_file_url``: the root followed by ``/file/bot``."""
        return f"{self.url}/file/bot"

    # ------------------------------------------------------------------ fault injection

    def fail(
        self,
        method: str,
        error_code: int = 500,
        description: str | None = None,
        *,
        times: int | None = 1,
        retry_after: int | None = None,
        when: Callable[[JSON], bool] | None = None,
        drop_connection: bool = False,
        after_effect: bool = False,
    ) -> Fault:
        """Answer the next ``times`` calls of ``method`` with an error instead of the result.

        ``method`` is matched case-insensitively; ``"*"`` matches every method.
        ``description`` defaults to Telegram's wording for the code (429 gets
        ``"Too Many Requests: retry after N"`` and ``parameters.retry_after``, 1 unless
        given).  ``when`` receives the decoded parameters and limits the fault to calls it
        accepts.  ``drop_connection`` closes the socket without any response.
        ``after_effect`` lets the method take effect first (the message is sent, the
        answer is lost), which is how duplicate sends happen in production.
        ``times=None`` keeps the fault until :meth:`clear_faults`.  Faults queue in order.
        """
        if error_code == 429 and retry_after is None:
            retry_after = 1
        if description is None:
            if error_code == 429:
                description = f"Too Many Requests: retry after {retry_after}"
            else:
                description = _DEFAULT_DESCRIPTIONS.get(error_code, "Unknown Error")
        fault = Fault(
            method=method.lower(),
            error_code=error_code,
            description=description,
            retry_after=retry_after,
            times=times,
            when=when,
            drop_connection=drop_connection,
            after_effect=after_effect,
        )
        with self._lock:
            self._faults.append(fault)
        return fault

    def delay(self, method: str, seconds: float, *, times: int | None = None) -> Delay:
        """Wait ``seconds`` before answering ``method`` (``"*"``: all); ``stop()`` ends waits."""
        entry = Delay(method=method.lower(), seconds=seconds, times=times)
        with self._lock:
            self._delays.append(entry)
        return entry

    def telegram_limits(self) -> list[RateLimit]:
        """Telegram's flood limits as the desk is built for them: 20 messages a minute
        into a group (all its topics together), 4 a second into a private chat (short
        bursts at about one a second), 30 a second for the whole bot. Returns the
        limits (their ``hits`` count the 429s answered)."""
        return [
            self.limit_rate(20, 60.0, chat_kind="group"),
            self.limit_rate(4, 1.0, chat_kind="private"),
            self.limit_rate(30, 1.0, per_bot=True),
        ]

    def limit_rate(
        self,
        max_calls: int,
        per_seconds: float,
        *,
        chat_id: int | str | None = None,
        chat_kind: str | None = None,
        per_bot: bool = False,
        methods: Iterable[str] | None = None,
    ) -> RateLimit:
        """Model Telegram's flood control: 429 once a chat gets too many messages.

        At most ``max_calls`` messages per chat within any ``per_seconds`` window (an
        album counts one per item, as in Telegram); the next send gets ``429 Too Many
        Requests: retry after N`` with N the seconds until the window has room again.
        Telegram's own limits are roughly 1 per second in a private chat and 20 per minute
        in a group.  ``chat_id`` restricts the limit to one chat; ``methods`` defaults to
        every method that sends messages.  Refused calls do not count.  ``chat_kind``
        ("private" or "group") limits only chats of that kind; ``per_bot`` counts every
        chat together (Telegram's bot-wide limit).  :meth:`telegram_limits` installs
        Telegram's own.
        """
        names = frozenset(m.lower() for m in methods) if methods is not None else SEND_METHODS
        limit = RateLimit(
            max_calls=max_calls,
            per_seconds=per_seconds,
            methods=names,
            chat_id=chat_id,
            chat_kind=chat_kind,
            per_bot=per_bot,
        )
        with self._lock:
            self._rate_limits.append(limit)
        return limit

    def clear_faults(self) -> None:
        """Remove every queued fault, delay and rate limit."""
        with self._lock:
            self._faults.clear()
            self._delays.clear()
            self._rate_limits.clear()

    # ------------------------------------------------------------------ assertions

    @property
    def calls(self) -> list[Call]:
        """Every accepted call as ``(method, params)``, in arrival order (a copy)."""
        with self._lock:
            return list(self._calls)

    def calls_to(self, method: str) -> list[JSON]:
        """The parameters of every call to ``method`` (case-insensitive), in order."""
        wanted = method.lower()
        with self._lock:
            return [call.params for call in self._calls if call.method.lower() == wanted]

    def clear_calls(self) -> None:
        """Forget the recorded calls and history, e.g. after a test's setup phase."""
        with self._lock:
            self._calls.clear()
            self._history.clear()

    @property
    def history(self) -> list[Exchange]:
        """Every request with its outcome (status, description, injected or not)."""
        with self._lock:
            return list(self._history)

    def wait_for(
        self, predicate: Callable[[], T], timeout: float = 5.0, message: str | None = None
    ) -> T:
        """Re-check ``predicate`` on every change (and every 50 ms) until it is truthy.

        Returns the truthy value, so ``msg = api.wait_for(lambda: api.messages_in(42))``
        gets the list.  Raises ``AssertionError`` with ``message`` and a dump of the
        recent calls once ``timeout`` seconds have passed.
        """
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                value = predicate()
                if value:
                    return value
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    what = message or getattr(predicate, "__qualname__", repr(predicate))
                    raise AssertionError(
                        f"wait_for timed out after {timeout:g}s: {what}\n{self.dump()}"
                    )
                self._cond.wait(min(remaining, 0.05))

    def wait_for_message(
        self,
        chat_id: int,
        thread_id: int | None = None,
        *,
        where: Callable[[StoredMessage], bool] | None = None,
        count: int = 1,
        timeout: float = 5.0,
    ) -> StoredMessage:
        """Wait until the bot has sent ``count`` matching messages there; return the last."""

        def found() -> list[StoredMessage]:
            matching = [
                m for m in self.messages_in(chat_id, thread_id) if where is None or where(m)
            ]
            return matching if len(matching) >= count else []

        where_text = f" in thread {thread_id}" if thread_id is not None else ""
        return self.wait_for(
            found, timeout, f"{count} bot message(s) in chat {chat_id}{where_text}"
        )[count - 1]

    def wait_for_call(
        self,
        method: str,
        where: Callable[[JSON], bool] | None = None,
        *,
        timeout: float = 5.0,
    ) -> JSON:
        """Wait until the bot called ``method`` (with parameters ``where`` accepts)."""

        def found() -> JSON | None:
            for params in self.calls_to(method):
                if where is None or where(params):
                    return params
            return None

        result = self.wait_for(found, timeout, f"a call to {method}")
        assert result is not None
        return result

    def dump(self, last: int = 30) -> str:
        """The recent requests and their outcomes, for failure messages."""
        with self._lock:
            recent = self._history[-last:]
            lines = [f"last {len(recent)} of {len(self._history)} requests:"]
            lines += [f"  {exchange.summary()}" for exchange in recent]
            lines.append(f"pending updates: {len(self._updates) + len(self._redeliver)}")
            if self.internal_errors:
                lines.append("double errors:")
                lines += [f"  {error}" for error in self.internal_errors]
            return "\n".join(lines)

    # ------------------------------------------------------------------ HTTP entry

    def _handle(self, verb: str, target: str, content_type: str | None, body: bytes) -> _Response:
        raw_path, _, query = target.partition("?")
        path = unquote(raw_path)  # clients may percent-encode the ":" of the token
        match = _API_PATH.match(path)
        if match and verb in ("GET", "POST"):
            return self._handle_api(match.group(1), match.group(2), content_type, body, query)
        match = _FILE_PATH.match(path)
        if match and verb == "GET":
            return self._handle_file(match.group(1), match.group(2))
        return _Response.error(ApiError(404, "Not Found"))

    def _handle_api(
        self, token: str, name: str, content_type: str | None, body: bytes, query: str
    ) -> _Response:
        if not _TOKEN_FORMAT.match(token):
            return _Response.error(ApiError(404, "Not Found"))
        if token != self.token:
            with self._lock:
                self._history.append(Exchange(name, {}, 401, "Unauthorized"))
            return _Response.error(ApiError(401, "Unauthorized"))
        try:
            params, files = decode_request(content_type, body, query)
        except WireError as exc:
            return _Response.error(ApiError(400, f"Bad Request: {exc}"))
        method = self.canonical_method(name)
        if method is None:
            with self._lock:
                self._history.append(Exchange(name, params, 404, "Not Found"))
            return _Response.error(ApiError(404, "Not Found"))
        exchange = Exchange(method, params)
        with self._cond:
            self._calls.append(Call(method, params))
            self._history.append(exchange)
            pause = self._take_delay(method)
            fault = self._take_fault(method, params)
            throttled = None if fault else self._check_rate(method, params)
            self._cond.notify_all()
        if throttled is not None:
            with self._cond:
                exchange.status, exchange.description = 429, throttled.description
                exchange.fault = True
            return _Response.error(throttled)
        if pause:
            self._stopping.wait(pause)
        if fault is not None and not fault.after_effect:
            with self._cond:
                return self._fault_response(fault, exchange)
        try:
            result = self.execute(method, params, files)
            response = _Response.json(200, ok_envelope(result))
            status, description = 200, None
        except ApiError as exc:
            response = _Response.error(exc)
            status, description = exc.error_code, exc.description
        except Exception as exc:  # a bug in the double must not look like Telegram
            failure = ApiError(500, f"Internal Server Error: double failed: {exc!r}")
            response = _Response.error(failure)
            status, description = 500, failure.description
            with self._lock:
                self.internal_errors.append(f"{method}: {exc!r}")
        with self._cond:
            if fault is not None:
                response = self._fault_response(fault, exchange)
            else:
                exchange.status, exchange.description = status, description
            self._cond.notify_all()
        return response

    def _take_delay(self, method: str) -> float:
        for entry in self._delays:
            if entry.method in ("*", method.lower()) and (
                entry.times is None or entry.hits < entry.times
            ):
                entry.hits += 1
                return entry.seconds
        return 0.0

    def _check_rate(self, method: str, params: JSON) -> ApiError | None:
        now = time.monotonic()
        chat = params.get("chat_id")
        weight = len(params["media"]) if isinstance(params.get("media"), list) else 1
        if isinstance(params.get("message_ids"), list):
            weight = len(params["message_ids"])
        admitted = []
        for limit in self._rate_limits:
            if method.lower() not in limit.methods:
                continue
            if limit.chat_id is not None and limit.chat_id != chat:
                continue
            if limit.chat_kind is not None and limit.chat_kind != _chat_kind(chat):
                continue
            key = None if limit.per_bot else chat
            stamps = [t for t in limit.stamps.get(key, []) if t > now - limit.per_seconds]
            limit.stamps[key] = stamps
            if stamps and len(stamps) + weight > limit.max_calls:
                limit.hits += 1
                oldest = stamps[0] if stamps else now
                wait = max(1, math.ceil(oldest + limit.per_seconds - now))
                return ApiError(429, f"Too Many Requests: retry after {wait}", retry_after=wait)
            admitted.append(stamps)
        for stamps in admitted:
            stamps.extend([now] * weight)
        return None

    def _take_fault(self, method: str, params: JSON) -> Fault | None:
        for fault in self._faults:
            if fault.matches(method, params):
                fault.hits += 1
                return fault
        return None

    def _fault_response(self, fault: Fault, exchange: Exchange) -> _Response:
        exchange.fault = True
        if fault.drop_connection:
            exchange.status = 0
            return _Response(drop=True)
        error = ApiError(fault.error_code, fault.description, retry_after=fault.retry_after)
        exchange.status, exchange.description = error.error_code, error.description
        return _Response.error(error)

    def _handle_file(self, token: str, path: str) -> _Response:
        if token != self.token:
            return _Response.error(ApiError(401, "Unauthorized"))
        record = self.file_by_path(path)
        if record is None:
            return _Response.error(ApiError(404, "Not Found"))
        return _Response(200, record.data, record.mime_type or "application/octet-stream")


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], double: BotApiDouble) -> None:
        self.double = double
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Connections reset by the client or by stop() are normal here; stay quiet."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    @property
    def double(self) -> BotApiDouble:
        return cast(_Server, self.server).double

    def setup(self) -> None:
        super().setup()
        # Without this, Nagle's algorithm and delayed ACKs add ~40 ms to every answer.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.double._lock:
            self.double._connections.add(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            with self.double._lock:
                self.double._connections.discard(self.connection)

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the default stderr access log."""

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _serve(self) -> None:
        body = self._read_body()
        response = self.double._handle(
            self.command, self.path, self.headers.get("Content-Type"), body
        )
        if response.drop:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        try:
            self.send_response(response.status)
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            self.wfile.write(response.body)
        except OSError:
            self.close_connection = True
