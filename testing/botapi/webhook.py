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
