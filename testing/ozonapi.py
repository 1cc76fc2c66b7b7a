"""A local Ozon Seller API double for the buyer-chat methods, speaking real HTTP on a
free loopback port.

Built from the shapes in Ozon's documentation (the desk's notes in
docs/ozon-chats.md): ``POST /v3/chat/list`` (cursor pages, ``unread_only``),
``/v3/chat/history`` (``Forward``/``Backward`` from a message, ``limit``),
``/v1/chat/send/message`` (1-1,000 characters), ``/v2/chat/read``; product questions:
``/v1/question/list`` (``filter.status``, ``last_id`` pages), ``/v1/question/answer/create``
(2-3,000 characters; the question becomes ``PROCESSED``), ``/v1/question/answer/list``;
and ``/v3/product/info/list`` (SKU to offer id). Every request needs
the ``Client-Id`` and ``Api-Key`` headers: missing ones answer 401 code 16, a wrong key
403 code 7. Tests can take Premium away (the chat methods answer 403), close a chat's
reply window, and make the next requests fail with 429 (``retry-after``) or 5xx.
Message ids are uint64 as JSON strings, as Ozon sends them; the buyer's ``user.type``
is ``Сustomer`` with a Cyrillic С, as in Ozon's own examples.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

#: The buyer's ``user.type`` as Ozon's examples spell it (a Cyrillic "С").
CUSTOMER = "\u0421ustomer"
SELLER = "seller"
FIRST_MESSAGE_ID = 3_000_000_000_817_031_942


@dataclass
class Message:
    message_id: int
    user_type: str
    text: str
    created_at: str
    order_number: str | None = None
    is_image: bool = False


@dataclass
class Chat:
    chat_id: str
    messages: list[Message] = field(default_factory=list)
    read_up_to: int = 0
    window_open: bool = True
    chat_type: str = "Buyer_Seller"

    def unread(self) -> list[Message]:
        return [
            m for m in self.messages if m.user_type == CUSTOMER and m.message_id > self.read_up_to
        ]


@dataclass
class Question:
    question_id: str
    sku: int
    text: str
    status: str = "NEW"
    answers: list[str] = field(default_factory=list)


@dataclass
class Failure:
    status: int
    count: int
    retry_after: float | None = None


class OzonApiDouble:
    """The double; use as a context manager (``with OzonApiDouble() as ozon``)."""

    def __init__(self, client_id: str = "836271", api_key: str = "test-ozon-key") -> None:
        self.client_id = client_id
        self.api_key = api_key
        self.premium = True
        self.page_size = 2  # small pages, so pollers must follow the cursor
        self.chats: dict[str, Chat] = {}
        self.questions: dict[str, Question] = {}
        #: The seller's catalog as Ozon knows it: SKU -> offer id.
        self.products: dict[int, str] = {}
        #: Published answers in order: (question id, text).
        self.answered: list[tuple[str, str]] = []
        #: The next answer/create calls publish the answer and then fail with 500, as
        #: a reply lost on the way would.
        self.lose_answer_replies = 0
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self.sent: list[tuple[str, str]] = []  # (chat_id, text) in order
        self.files: list[tuple[str, str, bytes]] = []  # (chat_id, name, bytes) sent
        #: Buyers' pictures by URL path, served by GET with the seller's headers.
        self.pictures: dict[str, bytes] = {}
        self.sent_at: list[float] = []  # time.monotonic() of each of ``sent``
        self._failures: list[Failure] = []
        #: Where to push TYPE_NEW_MESSAGE when a buyer writes (the seller's push URL).
        self.push_url: str | None = None
        #: The ``seller_id`` the pushes carry.
        self.seller_id = client_id
        self.pushed: list[int] = []  # the HTTP status of each push
        self._next_id = FIRST_MESSAGE_ID
        self._lock = threading.Condition()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> OzonApiDouble:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    # ------------------------------------------------------------------ test side

    def buyer_writes(
        self, chat_id: str, text: str, order_number: str | None = None, *, image: bool = False
    ) -> str:
        """A buyer writes in a chat (made on first use); returns the message id."""
        with self._lock:
            chat = self.chats.setdefault(chat_id, Chat(chat_id))
            message = Message(self._new_id(), CUSTOMER, text, _now(), order_number, image)
            chat.messages.append(message)
            self._lock.notify_all()
        if self.push_url:
            push = {
                "message_type": "TYPE_NEW_MESSAGE",
                "chat_id": chat_id,
                "chat_type": "Buyer_Seller",
                "message_id": str(message.message_id),
                "created_at": message.created_at,
                "user": {"id": "1", "type": "Customer"},
                "data": [text],
                "seller_id": self.seller_id,
            }
            threading.Thread(target=self._push, args=(push,), daemon=True).start()
        return str(message.message_id)

    def buyer_sends_picture(self, chat_id: str, data: bytes | None, name: str = "photo.jpg") -> str:
        """A buyer sends a picture: the history shows ``![name](url)`` with ``is_image``;
        ``data=None`` is a picture the API will not give (404)."""
        with self._lock:
            path = f"/chat/file/{len(self.pictures) + 1}/{name}"
            if data is not None:
                self.pictures[path] = data
            else:
                self.pictures.setdefault("missing", b"")
        return self.buyer_writes(chat_id, f"![{name}]({self.url}{path})", image=True)

    def _push(self, body: dict[str, Any]) -> None:
        assert self.push_url is not None
        request = urllib.request.Request(
            self.push_url,
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                status = response.status
        except urllib.error.HTTPError as error:
            status = error.code
        except OSError:
            status = 0
        with self._lock:
            self.pushed.append(status)
            self._lock.notify_all()

    def buyer_asks(self, sku: int, text: str) -> str:
        """A buyer asks a product question; returns its id."""
        with self._lock:
            question_id = f"q-{len(self.questions) + 1:04d}-{sku}"
            self.questions[question_id] = Question(question_id, sku, text)
            self._lock.notify_all()
            return question_id

    def answers_to(self, question_id: str) -> list[str]:
        with self._lock:
            return list(self.questions[question_id].answers)

    def fail_next(self, status: int, count: int = 1, retry_after: float | None = None) -> None:
        """The next ``count`` requests answer ``status`` (429 with ``retry-after``)."""
        with self._lock:
            self._failures.append(Failure(status, count, retry_after))

    def close_window(self, chat_id: str) -> None:
        with self._lock:
            self.chats[chat_id].window_open = False

    def sent_in(self, chat_id: str) -> list[str]:
        with self._lock:
            return [text for chat, text in self.sent if chat == chat_id]

    def wait_for(self, predicate: Any, timeout: float = 5.0) -> Any:
        """Re-check ``predicate`` on every change until it is truthy; fail after
        ``timeout`` seconds."""
        deadline = datetime.now(UTC).timestamp() + timeout
        with self._lock:
            while True:
                value = predicate()
                if value:
                    return value
                remaining = deadline - datetime.now(UTC).timestamp()
                if remaining <= 0:
                    raise AssertionError(f"Ozon double: timed out; requests: {self.requests[-10:]}")
                self._lock.wait(min(remaining, 0.05))

    # ------------------------------------------------------------------ the API

    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def _answer(
        self, path: str, headers: dict[str, str], body: dict[str, Any]
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        with self._lock:
            self.requests.append((path, body))
            if self._failures:
                failure = self._failures[0]
                failure.count -= 1
                if failure.count <= 0:
                    self._failures.pop(0)
                extra = {}
                if failure.retry_after is not None:
                    extra["retry-after"] = f"{failure.retry_after:g}"
                code = 8 if failure.status == 429 else 13
                message = (
                    "You have reached request rate limit per second"
                    if failure.status == 429
                    else "Internal error"
                )
                return failure.status, _error(code, message), extra
            if not headers.get("client-id") or not headers.get("api-key"):
                return 401, _error(16, "Client-Id and Api-Key headers are required"), {}
            if headers["client-id"] != self.client_id or headers["api-key"] != self.api_key:
                return 403, _error(7, "Invalid Api-Key, please check the key and try again"), {}
            handler = {
                "/v3/chat/list": self._chat_list,
                "/v3/chat/history": self._chat_history,
                "/v1/chat/send/message": self._send_message,
                "/v2/chat/read": self._read,
                "/v1/chat/send/file": self._send_file,
                "/v1/question/list": self._question_list,
                "/v1/question/answer/create": self._answer_create,
                "/v1/question/answer/list": self._answer_list,
                "/v3/product/info/list": self._product_info,
            }.get(path)
            if handler is None:
                return 404, _error(5, "Not Found"), {}
            if path not in ("/v3/chat/list", "/v3/product/info/list") and not self.premium:
                return 403, _error(7, "Доступ запрещён: нужна подписка Premium Plus"), {}
            try:
                status, answer = handler(body)
            except (KeyError, TypeError, ValueError) as error:
                return 400, _error(3, f"invalid request: {error}"), {}
            self._lock.notify_all()
            return status, answer, {}

    def _chat_list(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        unread_only = bool((body.get("filter") or {}).get("unread_only"))
        limit = int(body.get("limit") or 30)
        start = int(body.get("cursor") or 0)
        chats = [c for c in self.chats.values() if not unread_only or c.unread()]
        page = chats[start : start + min(limit, self.page_size)]
        end = start + len(page)
        items = [
            {
                "chat": {
                    "chat_id": c.chat_id,
                    "chat_status": "Opened",
                    "chat_type": c.chat_type,
                    "created_at": c.messages[0].created_at if c.messages else _now(),
                },
                "first_unread_message_id": str(c.unread()[0].message_id) if c.unread() else "0",
                "last_message_id": str(c.messages[-1].message_id) if c.messages else "0",
                "unread_count": len(c.unread()),
            }
            for c in page
        ]
        return 200, {
            "chats": items,
            "total_unread_count": sum(len(c.unread()) for c in self.chats.values()),
            "cursor": str(end),
            "has_next": end < len(chats),
        }

    def _chat_history(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        chat = self.chats[str(body["chat_id"])]
        limit = int(body.get("limit") or 50)
        forward = body.get("direction") == "Forward"
        start = body.get("from_message_id")
        messages = list(chat.messages)
        if start:
            pivot = int(start)
            messages = [
                m for m in messages if (m.message_id >= pivot if forward else m.message_id <= pivot)
            ]
        if not forward:
            messages.reverse()
        page = messages[:limit]
        return 200, {
            "has_next": len(messages) > limit,
            "messages": [
                {
                    "message_id": str(m.message_id),
                    "user": {"id": "1", "type": m.user_type},
                    "created_at": m.created_at,
                    "is_read": m.message_id <= chat.read_up_to,
                    "data": [m.text],
                    "is_image": m.is_image,
                    "context": {"order_number": m.order_number or "", "sku": ""},
                }
                for m in page
            ],
        }

    def _send_message(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        chat = self.chats[str(body["chat_id"])]
        text = str(body["text"])
        if not 1 <= len(text) <= 1000:
            return 400, _error(3, "text must be 1 to 1000 characters")
        if not chat.window_open:
            return 400, _error(9, "The chat is closed for sending messages")
        chat.messages.append(Message(self._new_id(), SELLER, text, _now()))
        self.sent.append((chat.chat_id, text))
        self.sent_at.append(time.monotonic())
        return 200, {"result": "success"}

    def _question_list(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        status = str((body.get("filter") or {}).get("status") or "ALL")
        found = [q for q in self.questions.values() if status == "ALL" or q.status == status]
        start = int(body.get("last_id") or 0)
        page = found[start : start + self.page_size]
        end = start + len(page)
        return 200, {
            "questions": [
                {
                    "id": q.question_id,
                    "sku": q.sku,
                    "text": q.text,
                    "author_name": "Покупатель",
                    "status": q.status,
                    "published_at": _now(),
                    "answers_count": len(q.answers),
                    "product_url": f"https://www.ozon.ru/product/{q.sku}/",
                    "question_link": f"https://www.ozon.ru/product/{q.sku}/questions/",
                }
                for q in page
            ],
            "last_id": str(end) if end < len(found) else "",
        }

    def _answer_create(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        question = self.questions[str(body["question_id"])]
        text = str(body["text"])
        if int(body["sku"]) != question.sku:
            return 400, _error(3, "sku does not match the question")
        if not 2 <= len(text) <= 3000:
            return 400, _error(3, "text must be 2 to 3000 characters")
        question.answers.append(text)
        question.status = "PROCESSED"
        self.answered.append((question.question_id, text))
        if self.lose_answer_replies > 0:
            self.lose_answer_replies -= 1
            return 500, _error(13, "Internal error")
        return 200, {"answer_id": f"a-{len(self.answered)}"}

    def _answer_list(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        question = self.questions[str(body["question_id"])]
        return 200, {
            "answers": [
                {
                    "id": f"a-{i}",
                    "text": t,
                    "question_id": question.question_id,
                    "sku": question.sku,
                }
                for i, t in enumerate(question.answers, 1)
            ],
            "last_id": "",
        }

    def _product_info(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        wanted = [int(s) for s in body.get("sku") or []]
        return 200, {
            "items": [
                {"id": 1000 + sku, "offer_id": self.products[sku], "sku": sku, "sources": []}
                for sku in wanted
                if sku in self.products
            ]
        }

    def _send_file(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        chat = self.chats[str(body["chat_id"])]
        data = base64.b64decode(str(body["base64_content"]), validate=True)
        if not data or not str(body.get("name") or ""):
            return 400, _error(3, "name and base64_content are required")
        if not chat.window_open:
            return 400, _error(9, "The chat is closed for sending messages")
        chat.messages.append(Message(self._new_id(), SELLER, f"[file {body['name']}]", _now()))
        self.files.append((chat.chat_id, str(body["name"]), data))
        return 200, {"result": "success"}

    def _read(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        chat = self.chats[str(body["chat_id"])]
        upto = int(body.get("from_message_id") or chat.messages[-1].message_id)
        chat.read_up_to = max(chat.read_up_to, upto)
        return 200, {"unread_count": len(chat.unread())}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        double = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                try:
                    body = json.loads(self.rfile.read(length) or b"{}")
                except ValueError:
                    body = None
                extra: dict[str, str] = {}
                if not isinstance(body, dict):
                    status, answer = 400, _error(3, "the body is not a JSON object")
                else:
                    headers = {k.lower(): v for k, v in self.headers.items()}
                    status, answer, extra = double._answer(self.path, headers, body)
                data = json.dumps(answer, ensure_ascii=False).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in extra.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                headers = {k.lower(): v for k, v in self.headers.items()}
                with double._lock:
                    double.requests.append((f"GET {self.path}", {}))
                    allowed = headers.get("api-key") == double.api_key
                    data = double.pictures.get(self.path) if allowed else None
                status = 200 if data is not None else (404 if allowed else 403)
                payload = data if data is not None else b"{}"
                self.send_response(status)
                self.send_header("Content-Type", "image/jpeg" if data else "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


def _error(code: int, message: str) -> dict[str, Any]:
    return {"code": code, "message": message, "details": []}


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")
