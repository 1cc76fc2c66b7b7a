"""The Ozon Seller API's buyer-chat and product-question methods, asynchronously, for
the desk's own loop.

Every call is a ``POST`` with JSON and the seller's ``Client-Id`` and ``Api-Key``
headers. 429 and 5xx (and network errors) are tried again after ``retry-after`` or a
growing pause, a few times; then :class:`OzonApiError`. 401, and 403 naming the key,
are :class:`OzonAuthError` (a wrong or retired key); another 403 is
:class:`OzonDeniedError` (the method needs Premium Plus or Premium Pro, or a role the
key lacks); another 4xx is :class:`OzonRefusedError` (a closed reply window, a bad
request). The key never reaches a log or an error message.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from sellerdesk.faq.content.ozon_catalog import (
    RETRY_AFTER_MAX_S,
    OzonApiError,
    OzonAuthError,
    ozon_message,
    retry_delay,
)

__all__ = [
    "OzonApiError",
    "OzonAuthError",
    "OzonChatClient",
    "OzonDeniedError",
    "OzonMaybeDoneError",
    "OzonRefusedError",
]

log = logging.getLogger(__name__)

#: Seconds for one request.
TIMEOUT_S = 15.0
#: Tries of one call at most (429, 5xx, network errors).
MAX_ATTEMPTS = 4
#: Seconds before the first retry after a 5xx or a network error, doubling after: a
#: pass over a seller's chats waits for it, so it starts short.
BACKOFF_S = 0.25
#: Ozon's limit on a message's text.
MESSAGE_CHARS = 1000
#: Buyer chats, as ``chat_type`` names them.
BUYER_CHAT = "Buyer_Seller"
#: Chats asked for in one page of /v3/chat/list.
PAGE = 100
#: Pages followed at most in one look at the chat list or a chat's history.
MAX_PAGES = 50
#: Messages asked for in one page of /v3/chat/history.
HISTORY_PAGE = 100


@dataclass(frozen=True)
class UnreadChat:
    chat_id: str
    last_message_id: str
    first_unread_id: str


class OzonDeniedError(OzonApiError):
    """The key works but may not use this method (no Premium Plus or Pro, or a role)."""


class OzonMaybeDoneError(OzonApiError):
    """A call that must not be repeated blindly got no clear answer: it may be done."""


class OzonRefusedError(OzonApiError):
    """Ozon refused this request (a closed reply window, a text out of bounds...)."""


def is_buyer(message: dict[str, Any]) -> bool:
    """Whether a history message is the buyer's: ``user.type`` is ``customer`` in the
    schema and ``Сustomer`` (a Cyrillic С) in Ozon's examples."""
    kind = str((message.get("user") or {}).get("type") or "")
    return kind.lower().replace("\u0441", "c") == "customer"


def message_text(message: dict[str, Any]) -> str:
    """The text of a history message (``data`` is a list of Markdown strings)."""
    data = message.get("data") or []
    return "\n".join(str(part) for part in data if isinstance(part, str)).strip()


def split_text(text: str, limit: int = MESSAGE_CHARS) -> list[str]:
    """``text`` in parts Ozon takes (1 to ``limit`` characters), cut at line breaks,
    else at spaces, else anywhere."""
    parts: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        cut = rest.rfind("\n", 0, limit + 1)
        if cut <= 0:
            cut = rest.rfind(" ", 0, limit + 1)
        if cut <= 0:
            cut = limit
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        parts.append(rest)
    return parts


class OzonChatClient:
    """One seller's access to the buyer-chat methods."""

    def __init__(
        self,
        client_id: str,
        api_key: str,
        base_url: str,
        *,
        rps: float = 5.0,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._interval = 1.0 / rps
        self._next = 0.0
        self._sleep = sleep
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            headers={"Client-Id": client_id, "Api-Key": api_key},
            timeout=TIMEOUT_S,
            transport=transport,
        )

    def __repr__(self) -> str:  # the key must never reach a log
        return f"OzonChatClient(base_url={self.base_url!r})"

    async def close(self) -> None:
        await self._http.aclose()

    async def _pace(self) -> None:
        now = time.monotonic()
        if now < self._next:
            await self._sleep(self._next - now)
            now = self._next
        self._next = now + self._interval

    async def post(
        self, path: str, body: dict[str, Any], *, idempotent: bool = True
    ) -> dict[str, Any]:
        """``path`` with ``body``; the answer's JSON object.

        ``idempotent=False``: a call that must not happen twice (publishing an answer).
        429 is tried again (Ozon did nothing), a 5xx or a broken connection is not (it may
        have been done): :class:`OzonMaybeDoneError`, for the caller to check.
        """
        for attempt in range(1, MAX_ATTEMPTS + 1):
            await self._pace()
            try:
                response = await self._http.post(path, json=body)
            except httpx.TransportError as error:
                if not idempotent:
                    raise OzonMaybeDoneError(
                        f"{path}: no answer ({type(error).__name__})"
                    ) from error
                if attempt == MAX_ATTEMPTS:
                    raise OzonApiError(
                        f"{path}: cannot reach Ozon ({type(error).__name__})"
                    ) from error
                await self._sleep(_backoff(attempt))
                continue
            status = response.status_code
            if status >= 500 and not idempotent:
                raise OzonMaybeDoneError(f"{path}: HTTP {status}; it may have been done", status)
            if status == 429 or status >= 500:
                if attempt == MAX_ATTEMPTS:
                    raise OzonApiError(f"{path}: HTTP {status} after {attempt} tries", status)
                said = response.headers.get("Retry-After")
                pause = retry_delay(response, attempt) if said else _backoff(attempt)
                await self._sleep(min(pause, RETRY_AFTER_MAX_S))
                continue
            if status >= 400:
                raise _refusal(path, response)
            try:
                answer = response.json()
            except ValueError as error:
                raise OzonApiError(f"{path}: the answer is not JSON", status) from error
            if not isinstance(answer, dict):
                raise OzonApiError(f"{path}: unexpected answer", status)
            return answer
        raise AssertionError("unreachable")  # pragma: no cover

    async def unread_chats(self) -> list[UnreadChat]:
        """Each buyer chat with unread messages, every page."""
        found: dict[str, UnreadChat] = {}
        cursor = ""
        for _ in range(MAX_PAGES):
            body: dict[str, Any] = {"filter": {"unread_only": True}, "limit": PAGE}
            if cursor:
                body["cursor"] = cursor
            page = await self.post("/v3/chat/list", body)
            for item in page.get("chats") or []:
                chat = item.get("chat") or {}
                if chat.get("chat_type") == BUYER_CHAT and chat.get("chat_id"):
                    chat_id = str(chat["chat_id"])
                    found[chat_id] = UnreadChat(
                        chat_id,
                        str(item.get("last_message_id") or ""),
                        str(item.get("first_unread_message_id") or ""),
                    )
            cursor = str(page.get("cursor") or "")
            if not page.get("has_next") or not cursor:
                break
        return list(found.values())

    async def messages_since(self, chat_id: str, first: str) -> list[dict[str, Any]]:
        """The chat's messages from ``first`` (the first unread) on, oldest first, every
        page; without ``first``, the newest :data:`HISTORY_PAGE`."""
        if not first.isdigit() or first == "0":
            answer = await self.post(
                "/v3/chat/history",
                {"chat_id": chat_id, "direction": "Backward", "limit": HISTORY_PAGE},
            )
            return _in_order(answer.get("messages"))
        found: dict[int, dict[str, Any]] = {}
        start = first
        for _ in range(MAX_PAGES):
            answer = await self.post(
                "/v3/chat/history",
                {
                    "chat_id": chat_id,
                    "direction": "Forward",
                    "from_message_id": start,
                    "limit": HISTORY_PAGE,
                },
            )
            page = _in_order(answer.get("messages"))
            new = [m for m in page if int(str(m.get("message_id"))) not in found]
            for message in new:
                found[int(str(message.get("message_id")))] = message
            if not answer.get("has_next") or not new:
                break
            start = str(max(found))
        return [found[k] for k in sorted(found)]

    async def send(self, chat_id: str, text: str) -> None:
        await self.post("/v1/chat/send/message", {"chat_id": chat_id, "text": text})

    async def fetch_file(self, url: str, limit: int) -> bytes:
        """A file a chat message links to (a buyer's picture), at most ``limit`` bytes.

        Only Ozon's own addresses are asked (the API's host, ``*.ozon.ru``,
        ``*.ozone.ru``), with the seller's headers: a link elsewhere would carry the key
        to someone else. Raises :class:`OzonRefusedError` for another address, a
        refusal or a file too large; :class:`OzonApiError` when Ozon cannot be reached.
        """
        target = httpx.URL(url)
        api = httpx.URL(self.base_url)
        ozon_host = target.host.endswith((".ozon.ru", ".ozone.ru")) and target.scheme == "https"
        if not (ozon_host or (target.host == api.host and target.port == api.port)):
            raise OzonRefusedError(f"not an Ozon address: {target.host}")
        try:
            response = await self._http.get(url)
        except httpx.TransportError as error:
            raise OzonApiError(f"cannot fetch the file ({type(error).__name__})") from error
        if response.status_code >= 400:
            raise OzonRefusedError(f"Ozon did not give the file (HTTP {response.status_code})")
        if len(response.content) > limit:
            raise OzonRefusedError(f"the file is over {limit // 2**20} MB")
        return response.content

    async def send_file(self, chat_id: str, name: str, base64_content: str) -> None:
        await self.post(
            "/v1/chat/send/file",
            {"chat_id": chat_id, "name": name, "base64_content": base64_content},
        )

    async def send_local_file(self, chat_id: str, path: Path) -> bool:
        """Send a file of the seller's folder (an FAQ answer's); False, logged, when it
        is gone from there since the FAQ was loaded (the answer goes without it)."""
        try:
            data = await asyncio.to_thread(path.read_bytes)
        except OSError as error:
            log.error("%s is gone from the seller's folder: %s", path, error.strerror)
            return False
        await self.send_file(chat_id, path.name, base64.b64encode(data).decode())
        return True

    async def read(self, chat_id: str, message_id: str) -> None:
        await self.post("/v2/chat/read", {"chat_id": chat_id, "from_message_id": message_id})

    async def new_questions(self) -> list[dict[str, Any]]:
        """Product questions Ozon lists as new, every page (``last_id`` pages; an empty
        or repeated ``last_id``, or an empty page, ends the list)."""
        found: dict[str, dict[str, Any]] = {}
        last_id = ""
        for _ in range(MAX_PAGES):
            page = await self.post(
                "/v1/question/list", {"filter": {"status": "NEW"}, "last_id": last_id}
            )
            items = [q for q in page.get("questions") or [] if isinstance(q, dict)]
            for item in items:
                if item.get("id"):
                    found.setdefault(str(item["id"]), item)
            following = str(page.get("last_id") or "")
            if not items or not following or following == last_id:
                break
            last_id = following
        return list(found.values())

    async def answer_question(self, question_id: str, sku: int, text: str) -> None:
        await self.post(
            "/v1/question/answer/create",
            {"question_id": question_id, "sku": sku, "text": text},
            idempotent=False,
        )

    async def question_answers(self, question_id: str, sku: int) -> list[str]:
        """The texts of the question's answers (the first page)."""
        page = await self.post(
            "/v1/question/answer/list", {"question_id": question_id, "sku": sku, "last_id": ""}
        )
        return [str(a.get("text") or "") for a in page.get("answers") or [] if isinstance(a, dict)]

    async def offers_of(self, skus: list[int]) -> dict[int, str]:
        """The seller's offer id of each of ``skus`` Ozon knows (``/v3/product/info/list``:
        an item's own ``sku`` and its ``sources``' SKUs all name it)."""
        answer = await self.post("/v3/product/info/list", {"sku": [str(s) for s in skus]})
        found: dict[int, str] = {}
        for item in answer.get("items") or []:
            if not isinstance(item, dict) or not item.get("offer_id"):
                continue
            names = [item.get("sku"), *[(s or {}).get("sku") for s in item.get("sources") or []]]
            for name in names:
                if str(name or "").isdigit():
                    found[int(str(name))] = str(item["offer_id"])
        return found


def _backoff(attempt: int) -> float:
    return float(BACKOFF_S * 2 ** (attempt - 1))


def _in_order(messages: Any) -> list[dict[str, Any]]:
    """History messages with a numeric id, oldest first."""
    if not isinstance(messages, list):
        return []
    usable = [
        m for m in messages if isinstance(m, dict) and str(m.get("message_id") or "").isdigit()
    ]
    return sorted(usable, key=lambda m: int(str(m["message_id"])))


def _refusal(path: str, response: httpx.Response) -> OzonApiError:
    status = response.status_code
    said = ozon_message(response)[:200]
    if status == 401 or (status == 403 and "api-key" in said.lower()):
        return OzonAuthError(f"{path}: Ozon refused the key (HTTP {status}: {said})", status)
    if status == 403:
        return OzonDeniedError(f"{path}: not allowed (HTTP 403: {said})", status)
    return OzonRefusedError(f"{path}: HTTP {status}: {said}", status)
