"""Webhook delivery, the part of Telegram the double does not play by itself.

The double records ``setWebhook`` but never calls the URL. A test that runs the bot in
webhook mode delivers each update the way Telegram does: an HTTPS POST (plain HTTP on
loopback here) of the update as JSON, with the secret of ``setWebhook`` in the
``X-Telegram-Bot-Api-Secret-Token`` header::

    message = api.user_sends_text(1001, "/start")
    status = post_update(url, webhook_update(api, message.update_id), secret)

Telegram treats any answer but a 2xx as a failed delivery and tries the same update
again later; :func:`post_update` returns the status so the test can do the same.
"""

from __future__ import annotations

import http.client
import json
import queue
import threading
import time
from typing import Any
from urllib.parse import urlsplit

from testing.botapi.state import BotApiState

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
#: Telegram waits about a minute for a webhook answer; loopback needs far less.
POST_TIMEOUT_S = 10.0

JSON = dict[str, Any]


def webhook_update(api: BotApiState, update_id: int) -> JSON:
    """The update ``{"update_id": N, kind: payload}`` the double queued as ``update_id``
    (what getUpdates would return), for posting to a webhook."""
    with api._lock:
        # Newest first: the update posted is nearly always the one just queued.
        for entry_id, kind, payload in reversed(api._history_updates):
            if entry_id == update_id:
                return {"update_id": entry_id, kind: json.loads(json.dumps(payload))}
    raise KeyError(f"no update with id {update_id}")


def post_update(
    url: str,
    update: JSON,
    secret: str | None,
    *,
    headers: dict[str, str] | None = None,
    timeout: float = POST_TIMEOUT_S,
) -> int:
    """POST ``update`` to the webhook ``url`` as Telegram does; returns the HTTP status.

    ``secret`` goes in ``X-Telegram-Bot-Api-Secret-Token`` (None: no header, as when
    setWebhook had no secret or a stranger calls the URL). ``headers`` are added as
    they are. Connection failures raise ``OSError``.
    """
    parts = urlsplit(url)
    if parts.scheme != "http" or parts.hostname is None:
        raise ValueError(f"expected a plain http URL on loopback, got {url!r}")
    body = json.dumps(update, ensure_ascii=False).encode()
    sent = {"Content-Type": "application/json", **(headers or {})}
    if secret is not None:
        sent[SECRET_HEADER] = secret
    connection = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=timeout)
    try:
        connection.request("POST", parts.path or "/", body, sent)
        response = connection.getresponse()
        response.read()
        return int(response.status)
    finally:
        connection.close()


class ChatOrderedDelivery:
    """Telegram's side of webhook delivery under faults: each chat's updates POSTed one
    after another in order, chats at once (``connections`` threads, Telegram's
    ``max_connections``), and an update whose POST failed (any answer but 2xx, a refused
    or broken connection) posted again after growing pauses until it is taken, as
    Telegram does, or ``give_up_s`` passes.

    ``add(chat_id, update_id)`` queues an update; :meth:`close` waits until everything
    queued was taken and returns how many updates were given up.
    """

    def __init__(
        self,
        api: BotApiState,
        url: str,
        secret: str,
        connections: int = 40,
        give_up_s: float = 300.0,
    ) -> None:
        self.api = api
        self.url = url
        self.secret = secret
        self.give_up_s = give_up_s
        self.given_up = 0
        #: POSTs answered with something else than 2xx or failed on the connection.
        self.retries = 0
        self._lock = threading.Lock()
        self._chats: dict[int, list[int]] = {}
        self._ready: queue.Queue[int | None] = queue.Queue()
        self._threads = [
            threading.Thread(target=self._work, name=f"telegram-post-{n}", daemon=True)
            for n in range(connections)
        ]
        for thread in self._threads:
            thread.start()

    def add(self, chat_id: int, update_id: int) -> None:
        with self._lock:
            waiting = self._chats.get(chat_id)
            if waiting is not None:  # a thread holds this chat: it takes this one next
                waiting.append(update_id)
                return
            self._chats[chat_id] = [update_id]
        self._ready.put(chat_id)

    def close(self) -> int:
        for _ in self._threads:
            self._ready.put(None)
        for thread in self._threads:
            thread.join()
        return self.given_up

    def _work(self) -> None:
        while (chat_id := self._ready.get()) is not None:
            while True:
                with self._lock:
                    waiting = self._chats[chat_id]
                    if not waiting:
                        del self._chats[chat_id]
                        break
                    update_id = waiting[0]
                update = webhook_update(self.api, update_id)
                deadline = time.monotonic() + self.give_up_s
                pause = 0.2
                while True:
                    try:
                        if 200 <= post_update(self.url, update, self.secret) < 300:
                            break
                    except (OSError, http.client.HTTPException):
                        pass
                    with self._lock:
                        self.retries += 1
                    if time.monotonic() > deadline:
                        with self._lock:
                            self.given_up += 1
                        break
                    time.sleep(pause)
                    pause = min(2 * pause, 3.0)
                with self._lock:
                    self._chats[chat_id].pop(0)
