"""Reading a seller's catalog from the Ozon Seller API into products.csv rows.

``sellerdesk products import SELLER --ozon-api`` pages through the product list, reads
names, offer ids, prices and barcodes in batches, the attributes page by page, and one
description per product; the rows then go through the same cleaning and checks as a
file export (:mod:`faq.content.catalog_import`).

Requests are paced on the client side (``OZON_API_RPS``) and retried on 429 and 5xx
with backoff, honouring ``Retry-After``. The keys travel only in the ``Client-Id`` and
``Api-Key`` headers and never appear in messages or logs.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Any

import httpx

from sellerdesk.faq.content.catalog_import import Catalog, catalog_from_records, clean_description

#: Items per /v3/product/list page and per /v3/product/info/list batch (Ozon's maximum).
LIST_PAGE = 1000
#: Items per /v4/product/info/attributes page (Ozon's maximum).
ATTRIBUTES_PAGE = 1000
#: Attempts per request before giving up on 429, 5xx or network errors.
MAX_ATTEMPTS = 5
#: Backoff before the n-th retry: 1, 2, 4, 8 s (``BACKOFF_BASE_S * 2**(n-1)``), at most
#: ``BACKOFF_MAX_S``; about 15 s in all rides out a short Ozon hiccup.
BACKOFF_BASE_S = 1.0
BACKOFF_MAX_S = 30.0
#: The longest ``Retry-After`` honoured as given; longer waits are cut to this.
RETRY_AFTER_MAX_S = 120.0
#: Seconds for one request (Ozon answers large batches in a few seconds).
REQUEST_TIMEOUT_S = 30.0
#: An attribute value at least this long found inside the description repeats it (the
#: annotation); shorter values ("белый") are kept even when the description names them.
REPEAT_MIN_CHARS = 30
#: Descriptions fetched between two progress lines.
PROGRESS_EVERY = 100

Progress = Callable[[str], None]


class OzonApiError(Exception):
    """The Ozon Seller API could not be used; the message says why."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        #: The HTTP status Ozon answered, None for network errors.
        self.status = status


class OzonAuthError(OzonApiError):
    """Ozon refused the Client-Id and Api-Key (HTTP 401 or 403)."""


class OzonSetupError(OzonApiError):
    """OZON_CLIENT_ID or OZON_API_KEY is not set."""


class RateLimiter:
    """At most ``rate`` requests a second: each request waits for its own time slot.

    Slots are ``1 / rate`` seconds apart, so no second ever holds more than ``rate``
    requests (plus the one on its boundary), however the calls bunch up.
    """

    def __init__(
        self,
        rate: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.interval = 1.0 / rate
        self._clock = clock
        self._sleep = sleep
        self._next = float("-inf")

    def wait(self) -> None:
        now = self._clock()
        if now < self._next:
            self._sleep(self._next - now)
            now = self._next
        self._next = now + self.interval


def retry_delay(response: httpx.Response, attempt: int, now: datetime | None = None) -> float:
    """Seconds to wait before retrying: ``Retry-After`` (seconds or a date) when given,
    else exponential backoff."""
    header = response.headers.get("Retry-After", "").strip()
    if header:
        try:
            seconds = float(header)
        except ValueError:
            try:
                when = parsedate_to_datetime(header)
            except (TypeError, ValueError):
                when = None
            seconds = (when - (now or datetime.now(UTC))).total_seconds() if when else -1.0
        if seconds >= 0:
            return min(seconds, RETRY_AFTER_MAX_S)
    return backoff(attempt)


def backoff(attempt: int) -> float:
    """Seconds before retry number ``attempt`` (1, 2, 4, 8, ... at most ``BACKOFF_MAX_S``)."""
    return float(min(BACKOFF_BASE_S * 2 ** (attempt - 1), BACKOFF_MAX_S))


def ozon_message(response: httpx.Response) -> str:
    """Ozon's own explanation (``{"code": ..., "message": ...}``), if the body has one."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:200].strip()
    if isinstance(body, dict):
        return str(body.get("message") or body.get("error") or "").strip()
    return ""


class OzonClient:
    """A paced, retrying JSON client for the Ozon Seller API (synchronous: a CLI tool)."""

    def __init__(
        self,
        client_id: str,
        api_key: str,
        base_url: str = "https://api-seller.ozon.ru",
        rps: float = 5.0,
        *,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        max_attempts: int = MAX_ATTEMPTS,
    ) -> None:
        if not client_id or not api_key:
            raise OzonSetupError(
                "set OZON_CLIENT_ID and OZON_API_KEY (.env or the environment); both are in "
                "the Ozon seller cabinet under Settings > Seller API"
            )
        self.base_url = base_url.rstrip("/")
        self.limiter = RateLimiter(rps, clock, sleep)
        self.max_attempts = max_attempts
        self._sleep = sleep
        self._http = httpx.Client(
            base_url=self.base_url,
            headers={"Client-Id": client_id, "Api-Key": api_key},
            timeout=REQUEST_TIMEOUT_S,
            transport=transport,
        )

    def __repr__(self) -> str:  # the keys must never reach a log
        return f"OzonClient(base_url={self.base_url!r})"

    def __enter__(self) -> OzonClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def post(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        """POST a JSON request and return the JSON object Ozon answers.

        Raises:
            OzonAuthError: 401 or 403 (wrong keys, or a key without this method's rights).
            OzonApiError: network errors, 429 and 5xx after every attempt, other 4xx.
        """
        for attempt in range(1, self.max_attempts + 1):
            self.limiter.wait()
            try:
                response = self._http.post(path, json=payload)
            except httpx.TransportError as exc:
                if attempt == self.max_attempts:
                    raise OzonApiError(
                        f"cannot reach the Ozon Seller API at {self.base_url} "
                        f"({type(exc).__name__}: {exc}); check the network and OZON_API_URL"
                    ) from exc
                self._sleep(backoff(attempt))
                continue
            status = response.status_code
            if status in (401, 403):
                raise OzonAuthError(
                    f"Ozon refused the API keys (HTTP {status}: {ozon_message(response)}); "
                    "check OZON_CLIENT_ID and OZON_API_KEY (seller cabinet: Settings > Seller "
                    "API) and that the key may read products",
                    status,
                )
            if status == 429 or status >= 500:
                if attempt == self.max_attempts:
                    raise OzonApiError(
                        f"{path}: HTTP {status} after {attempt} attempts "
                        f"({ozon_message(response)}); try again later",
                        status,
                    )
                self._sleep(retry_delay(response, attempt))
                continue
            if status >= 400:
                raise OzonApiError(f"{path}: HTTP {status}: {ozon_message(response)}", status)
            try:
                body = response.json()
            except ValueError as exc:
                raise OzonApiError(f"{path}: the answer is not JSON") from exc
            if not isinstance(body, dict):
                raise OzonApiError(f"{path}: unexpected answer {str(body)[:100]!r}")
            return body
        raise AssertionError("unreachable")  # pragma: no cover


# ------------------------------------------------------------------------------ catalog


def list_product_ids(client: OzonClient) -> list[int]:
    """Every visible product's id, paged by ``last_id`` (/v3/product/list)."""
    ids: list[int] = []
    last_id = ""
    while True:
        body = client.post(
            "/v3/product/list",
            {"filter": {"visibility": "ALL"}, "last_id": last_id, "limit": LIST_PAGE},
        )
        result = body.get("result") or {}
        items = result.get("items") or []
        ids += [int(item["product_id"]) for item in items]
        last_id = str(result.get("last_id") or "")
        total = int(result.get("total") or 0)
        if not items or not last_id or (total and len(ids) >= total):
            return ids


def product_info(client: OzonClient, ids: list[int]) -> Iterator[dict[str, Any]]:
    """Names, offer ids, prices and barcodes, ``LIST_PAGE`` products a request
    (/v3/product/info/list)."""
    for start in range(0, len(ids), LIST_PAGE):
        body = client.post("/v3/product/info/list", {"product_id": ids[start : start + LIST_PAGE]})
        items = body.get("items")
        if items is None:  # older answers nest the list under "result"
            items = (body.get("result") or {}).get("items") or []
        yield from items


def product_attributes(client: OzonClient) -> Iterator[dict[str, Any]]:
    """Every product's attributes and dimensions, paged by ``last_id``
    (/v4/product/info/attributes)."""
    last_id = ""
    while True:
        body = client.post(
            "/v4/product/info/attributes",
            {
                "filter": {"visibility": "ALL"},
                "limit": ATTRIBUTES_PAGE,
                "last_id": last_id,
                "sort_dir": "ASC",
            },
        )
        items = body.get("result") or []
        yield from items
        last_id = str(body.get("last_id") or "")
        if not items or not last_id or len(items) < ATTRIBUTES_PAGE:
            return


def product_description(client: OzonClient, product_id: int) -> str:
    """One product's description, often HTML (/v1/product/info/description); empty for a
    product removed since it was listed."""
    try:
        body = client.post("/v1/product/info/description", {"product_id": product_id})
    except OzonApiError as exc:
        if exc.status == 404:
            return ""
        raise
    return str((body.get("result") or {}).get("description") or "")


@dataclass
class AttributeNames:
    """Names of Ozon attribute ids, per category and type (the attributes answer carries
    only ids); unknown ones are written ``attribute <id>``."""

    client: OzonClient
    _known: dict[tuple[int, int], dict[int, str]] = field(default_factory=dict)

    def name(self, item: dict[str, Any], attribute: dict[str, Any]) -> str:
        if attribute.get("name"):
            return str(attribute["name"])
        key = (int(item.get("description_category_id") or 0), int(item.get("type_id") or 0))
        if key not in self._known:
            self._known[key] = self._fetch(*key)
        return self._known[key].get(int(attribute["id"]), f"attribute {attribute['id']}")

    def _fetch(self, category_id: int, type_id: int) -> dict[int, str]:
        if not category_id:
            return {}
        try:
            body = self.client.post(
                "/v1/description-category/attribute",
                {"description_category_id": category_id, "type_id": type_id, "language": "DEFAULT"},
            )
        except OzonApiError:
            return {}  # names are a nicety: ids still make a usable catalog
        return {int(a["id"]): str(a["name"]) for a in body.get("result") or [] if a.get("name")}


def _number(value: Any) -> str:
    """``"1290.0000"`` -> ``"1290"``, ``"99.5000"`` -> ``"99.5"``."""
    text = str(value or "").strip()
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "" if text in ("", "0") else text


def _is_json_blob(text: str) -> bool:
    """Rich-content JSON and similar: markup for Ozon's page, noise for a buyer."""
    if not text.startswith(("{", "[")):
        return False
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def _info_columns(info: dict[str, Any]) -> dict[str, str]:
    sources = info.get("sources") or []
    sku = info.get("sku") or next((s.get("sku") for s in sources if s.get("sku")), "")
    price = _number(info.get("price"))
    currency = str(info.get("currency_code") or "").strip()
    return {
        "offer_id": str(info.get("offer_id") or ""),
        "name": str(info.get("name") or ""),
        "Ozon Product ID": str(info.get("id") or ""),
        "SKU": str(sku or ""),
        "Штрихкод": ", ".join(str(b) for b in info.get("barcodes") or [] if b),
        "Цена": f"{price} {currency}".strip() if price else "",
    }


def _repeats(value: str, name: str, description: str) -> bool:
    """The attribute only repeats the name or the description (Ozon's "Название" and
    "Аннотация" attributes do), so showing it again would add nothing."""
    text = " ".join(clean_description(value).split())
    if text == " ".join(name.split()):
        return True
    return len(text) >= REPEAT_MIN_CHARS and text in " ".join(description.split())


def _attribute_columns(
    item: dict[str, Any], names: AttributeNames, name: str, description: str
) -> dict[str, str]:
    columns: dict[str, str] = {}
    weight = _number(item.get("weight"))
    if weight:
        columns["Вес"] = f"{weight} {item.get('weight_unit') or ''}".strip()
    sides = [_number(item.get(k)) for k in ("depth", "width", "height")]
    if all(sides):
        columns["Размеры (Д×Ш×В)"] = "×".join(sides) + f" {item.get('dimension_unit') or ''}"
    for attribute in item.get("attributes") or []:
        values = [str(v.get("value") or "").strip() for v in attribute.get("values") or []]
        text = ", ".join(v for v in values if v)
        if not text or _is_json_blob(text) or _repeats(text, name, description):
            continue
        columns.setdefault(names.name(item, attribute), text)
    return columns


def fetch_catalog(client: OzonClient, progress: Progress = lambda _text: None) -> Catalog:
    """The seller's whole Ozon catalog as an imported catalog (checked and cleaned).

    Raises:
        OzonApiError: the API failed (OzonAuthError for wrong keys).
    """
    ids = list_product_ids(client)
    progress(f"Ozon: {len(ids)} products")
    infos = {int(info["id"]): info for info in product_info(client, ids)}
    attributes = {int(item["id"]): item for item in product_attributes(client)}
    names = AttributeNames(client)
    records: list[dict[str, str]] = []
    for done, product_id in enumerate(ids, start=1):
        info = infos.get(product_id)
        if info is None:
            continue
        record = _info_columns(info)
        record["description"] = product_description(client, product_id)
        item = attributes.get(product_id, {})
        description = clean_description(record["description"])
        for column, value in _attribute_columns(item, names, record["name"], description).items():
            record.setdefault(column, value)
        records.append(record)
        if done % PROGRESS_EVERY == 0:
            progress(f"Ozon: {done} of {len(ids)} descriptions read")
    header = list(
        dict.fromkeys(["offer_id", "name", "description"] + [k for r in records for k in r])
    )
    return catalog_from_records(f"Ozon Seller API ({client.base_url})", records, header)
