"""The Ozon Seller API importer against recorded answers (tests/fixtures/ozon)."""

from __future__ import annotations

import csv
import io
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from sellerdesk.cli import main
from sellerdesk.faq.content import ozon_catalog as ozon_api
from sellerdesk.faq.content.ozon_catalog import (
    OzonApiError,
    OzonAuthError,
    OzonClient,
    OzonSetupError,
    RateLimiter,
    fetch_catalog,
    retry_delay,
)
from tests.faq.conftest import WriteSeller

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "ozon"
CLIENT_ID = "836271"
API_KEY = "0c9f1e5a-7d4b-4b6e-9a3c-2f8e1d7c6b5a"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


class FakeClock:
    """Time that passes only when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@dataclass
class OzonDouble:
    """Answers the Seller API methods the importer calls, from the recorded fixtures."""

    clock: Callable[[], float] = lambda: 0.0
    calls: list[tuple[str, dict[str, Any], float]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    #: Canned (status, body, headers) answers given before the normal ones, per path.
    faults: dict[str, list[tuple[int, Any, dict[str, str]]]] = field(default_factory=dict)

    def answer(
        self, path: str, body: dict[str, Any], headers: dict[str, str]
    ) -> tuple[int, Any, dict[str, str]]:
        self.calls.append((path, body, self.clock()))
        self.headers.append(headers)
        if self.faults.get(path):
            return self.faults[path].pop(0)
        if headers.get("client-id") != CLIENT_ID or headers.get("api-key") != API_KEY:
            return 401, fixture("error_401.json"), {}
        return 200, self.route(path, body), {}

    def route(self, path: str, body: dict[str, Any]) -> Any:
        if path == "/v3/product/list":
            page = "page2" if body["last_id"] else "page1"
            return fixture(f"product_list_{page}.json")
        if path == "/v3/product/info/list":
            items = fixture("product_info_list.json")["items"]
            return {"items": [i for i in items if i["id"] in body["product_id"]]}
        if path == "/v4/product/info/attributes":
            page = "page2" if body["last_id"] else "page1"
            return fixture(f"product_attributes_{page}.json")
        if path == "/v1/product/info/description":
            return fixture("product_descriptions.json")[str(body["product_id"])]
        if path == "/v1/description-category/attribute":
            name = f"description_category_attribute_{body['description_category_id']}.json"
            if (FIXTURES / name).is_file():
                return fixture(name)
        return {"code": 5, "message": "Not Found", "details": []}

    def transport(self) -> httpx.MockTransport:
        def handle(request: httpx.Request) -> httpx.Response:
            headers = {k.lower(): v for k, v in request.headers.items()}
            status, body, extra = self.answer(
                request.url.path, json.loads(request.content), headers
            )
            if body == {"code": 5, "message": "Not Found", "details": []}:
                status = 404
            return httpx.Response(status, json=body, headers=extra)

        return httpx.MockTransport(handle)


@pytest.fixture
def small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    # The recorded attribute answer holds two products a page.
    monkeypatch.setattr(ozon_api, "ATTRIBUTES_PAGE", 2)


def make_client(double: OzonDouble, clock: FakeClock, rps: float = 5.0, **kw: Any) -> OzonClient:
    double.clock = clock
    return OzonClient(
        kw.pop("client_id", CLIENT_ID),
        kw.pop("api_key", API_KEY),
        "https://api-seller.ozon.ru",
        rps,
        transport=double.transport(),
        clock=clock,
        sleep=clock.sleep,
    )


def rows_of(text: str) -> dict[str, dict[str, str]]:
    return {r["offer_id"]: r for r in csv.DictReader(io.StringIO(text, newline=""))}


@pytest.mark.usefixtures("small_pages")
def test_catalog_pages_through_every_method() -> None:
    double, clock = OzonDouble(), FakeClock()
    with make_client(double, clock) as client:
        catalog = fetch_catalog(client)
    paths = [(path, body.get("last_id")) for path, body, _ in double.calls]
    assert paths[:2] == [("/v3/product/list", ""), ("/v3/product/list", "WzIyMzY4MTk0Nl0=")]
    assert ("/v4/product/info/attributes", "WzIyMzY4MTk0Nl0=") in paths
    assert sum(p == "/v1/product/info/description" for p, _ in paths) == 3
    assert all(h["client-id"] == CLIENT_ID and h["api-key"] == API_KEY for h in double.headers)
    rows = {row[0]: dict(zip(catalog.columns, row, strict=True)) for row in catalog.rows}
    assert list(rows) == ["LW-TS-001", "LW-HAT-002", "LW-SNK-220"]
    shirt = rows["LW-TS-001"]
    assert shirt["name"] == "Футболка оверсайз хлопковая"
    assert shirt["description"] == (
        "Свободная футболка из 100% хлопка.\n• плотность 180 г/м²\n• не садится после стирки"
    )
    assert shirt["Ozon Product ID"] == "223681945"
    assert shirt["SKU"] == "1542384001"
    assert shirt["Штрихкод"] == "OZN1234567890, 4607001234561"
    assert shirt["Цена"] == "1290 RUB"
    assert shirt["Вес"] == "220 g"
    assert shirt["Размеры (Д×Ш×В)"] == "250×200×30 mm"
    assert shirt["Бренд"] == "Lotus Wear"
    assert shirt["Цвет товара"] == "белый, черный"
    assert shirt["Пол"] == "Женский"
    # The annotation repeats the description, the title the name, and rich content is
    # page markup: none of them become attributes.
    assert "Аннотация" not in catalog.columns
    assert "Название" not in catalog.columns
    assert "Rich-контент JSON" not in catalog.columns
    assert rows["LW-HAT-002"]["Цена"] == "590.5 RUB"
    assert rows["LW-HAT-002"]["attribute 23171"] == "56-58"
    assert rows["LW-HAT-002"]["Размеры (Д×Ш×В)"] == ""
    # No names for this category: the ids stay, so nothing is lost.
    assert rows["LW-SNK-220"]["attribute 4495"] == "сетка, EVA"
    assert rows["LW-SNK-220"]["Вес"] == "0.9 kg"


@pytest.mark.usefixtures("small_pages")
def test_rate_limit_holds_over_time() -> None:
    double, clock = OzonDouble(), FakeClock()
    with make_client(double, clock, rps=2.0) as client:
        fetch_catalog(client)
    times = [t for _, _, t in double.calls]
    assert len(times) >= 10
    # Never more than two requests in any one-second window.
    assert all(later - earlier >= 1.0 for earlier, later in zip(times, times[2:], strict=False))
    assert times[-1] - times[0] == pytest.approx((len(times) - 1) / 2.0)


def test_rate_limiter_lets_a_late_caller_through_at_once() -> None:
    clock = FakeClock()
    limiter = RateLimiter(4.0, clock, clock.sleep)
    limiter.wait()
    limiter.wait()
    assert clock.sleeps == [0.25]
    clock.now += 10
    limiter.wait()
    assert clock.sleeps == [0.25]


@pytest.mark.usefixtures("small_pages")
def test_429_waits_retry_after_then_succeeds() -> None:
    double, clock = OzonDouble(), FakeClock()
    double.faults["/v3/product/list"] = [
        (429, fixture("error_429.json"), {"Retry-After": "7"}),
        (503, {"message": "Service Unavailable"}, {}),
    ]
    with make_client(double, clock, rps=1000.0) as client:
        catalog = fetch_catalog(client)
    assert len(catalog.rows) == 3
    assert 7.0 in clock.sleeps  # Retry-After
    assert 2.0 in clock.sleeps  # backoff before the third attempt
    list_calls = [c for c in double.calls if c[0] == "/v3/product/list"]
    assert len(list_calls) == 4  # 429, 503, then the two pages


@pytest.mark.usefixtures("small_pages")
def test_a_product_removed_meanwhile_keeps_the_rest() -> None:
    double, clock = OzonDouble(), FakeClock()
    double.faults["/v1/product/info/description"] = [(404, {"message": "not found"}, {})]
    with make_client(double, clock) as client:
        catalog = fetch_catalog(client)
    assert catalog.rows[0][:3] == ["LW-TS-001", "Футболка оверсайз хлопковая", ""]
    assert len(catalog.rows) == 3


def test_gives_up_after_the_last_attempt() -> None:
    double, clock = OzonDouble(), FakeClock()
    double.faults["/v3/product/list"] = [(500, {"message": "Internal"}, {})] * 10
    with (
        make_client(double, clock) as client,
        pytest.raises(OzonApiError, match="HTTP 500 after 5"),
    ):
        fetch_catalog(client)
    assert len(double.calls) == ozon_api.MAX_ATTEMPTS
    assert clock.sleeps[-4:] == [1.0, 2.0, 4.0, 8.0]


def test_wrong_keys_give_a_clear_message_without_the_key() -> None:
    double, clock = OzonDouble(), FakeClock()
    with (
        make_client(double, clock, api_key="wrong-key-123") as client,
        pytest.raises(OzonAuthError) as error,
    ):
        fetch_catalog(client)
    message = str(error.value)
    assert "HTTP 401" in message and "Invalid Api-Key" in message
    assert "OZON_CLIENT_ID and OZON_API_KEY" in message
    assert "wrong-key-123" not in message
    assert len(double.calls) == 1  # no retries: the keys will not get better
    assert "wrong-key-123" not in repr(client)


def test_network_errors_are_retried_then_reported() -> None:
    clock = FakeClock()
    attempts: list[str] = []

    def refuse(request: httpx.Request) -> httpx.Response:
        attempts.append(request.url.path)
        raise httpx.ConnectError("Connection refused", request=request)

    client = OzonClient(
        CLIENT_ID,
        API_KEY,
        "https://api-seller.ozon.ru",
        transport=httpx.MockTransport(refuse),
        clock=clock,
        sleep=clock.sleep,
    )
    with client, pytest.raises(OzonApiError, match="cannot reach the Ozon Seller API"):
        fetch_catalog(client)
    assert len(attempts) == ozon_api.MAX_ATTEMPTS


def test_missing_keys_are_a_setup_error() -> None:
    with pytest.raises(OzonSetupError, match="set OZON_CLIENT_ID and OZON_API_KEY"):
        OzonClient("", "")


def test_retry_after_as_a_date_and_capped() -> None:
    now = datetime(2026, 11, 26, 12, 0, 0, tzinfo=UTC)
    later = httpx.Response(429, headers={"Retry-After": "Thu, 26 Nov 2026 12:00:30 GMT"})
    assert retry_delay(later, 1, now) == 30.0
    assert retry_delay(httpx.Response(429, headers={"Retry-After": "3600"}), 1) == 120.0
    assert retry_delay(httpx.Response(429, headers={"Retry-After": "soon"}), 3) == 4.0


# ---------------------------------------------------------------- the command, over HTTP


@pytest.fixture
def ozon_server() -> Iterator[tuple[str, OzonDouble]]:
    """The double behind a real HTTP server on a free loopback port."""
    double = OzonDouble()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, answer, _extra = double.answer(self.path, body, headers)
            if answer == {"code": 5, "message": "Not Found", "details": []}:
                status = 404
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", double
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.mark.usefixtures("small_pages")
def test_cli_imports_from_the_api(
    ozon_server: tuple[str, OzonDouble],
    write_seller: WriteSeller,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url, double = ozon_server
    monkeypatch.setenv("OZON_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("OZON_API_KEY", API_KEY)
    monkeypatch.setenv("OZON_API_URL", url)
    monkeypatch.setenv("OZON_API_RPS", "1000")
    folder = write_seller()
    args = ["products", "import", "test-shop", "--ozon-api", "--content", str(folder.parent)]
    assert main(args) == 0
    captured = capsys.readouterr()
    assert "rows: 3 read, 3 imported, 0 skipped" in captured.out
    assert "Ozon: 3 products" in captured.err
    assert API_KEY not in captured.out + captured.err
    rows = rows_of((folder / "products.csv").read_text(encoding="utf-8"))
    assert list(rows) == ["LW-TS-001", "LW-HAT-002", "LW-SNK-220"]
    assert rows["LW-HAT-002"]["description"] == (
        "Панама из хлопка, носится на обе стороны.\nЗащищает от солнца."
    )
    assert rows["LW-HAT-002"]["Цвет товара"] == "бежевый"
    assert main(["faq", "check", str(folder.parent)]) == 0
    assert any(path == "/v1/description-category/attribute" for path, _, _ in double.calls)


def test_cli_reports_wrong_keys_with_exit_2(
    ozon_server: tuple[str, OzonDouble],
    write_seller: WriteSeller,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url, _double = ozon_server
    monkeypatch.setenv("OZON_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("OZON_API_KEY", "not-the-key")
    monkeypatch.setenv("OZON_API_URL", url)
    folder = write_seller()
    args = ["products", "import", "test-shop", "--ozon-api", "--content", str(folder.parent)]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "Ozon refused the API keys (HTTP 401" in err
    assert "not-the-key" not in err
    assert not (folder / "products.csv").exists()
    monkeypatch.setenv("OZON_API_KEY", "")
    assert main(args) == 2
    assert "set OZON_CLIENT_ID and OZON_API_KEY" in capsys.readouterr().err


def test_settings(tmp_path: Path) -> None:
    from sellerdesk.bot.settings import SettingsError, load_settings

    no_file = tmp_path / "missing.env"
    settings = load_settings(
        {"OZON_CLIENT_ID": CLIENT_ID, "OZON_API_KEY": API_KEY, "OZON_API_RPS": "2.5"}, no_file
    )
    assert (settings.ozon_client_id, settings.ozon_api_rps) == (CLIENT_ID, 2.5)
    assert settings.ozon_api_url == "https://api-seller.ozon.ru"
    assert API_KEY not in repr(settings)
    for bad in ("0", "-1", "fast", "inf"):
        with pytest.raises(SettingsError, match="OZON_API_RPS"):
            load_settings({"OZON_API_RPS": bad}, no_file)
