"""The desk's FAQ replies as a buyer sees them, without Telegram."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

from sellerdesk.bot.database import Database
from sellerdesk.bot.desk.answers import FaqAnswers
from sellerdesk.bot.i18n.texts import LANGUAGES, has_text, pick_language, text
from sellerdesk.bot.service import DeskService
from sellerdesk.bot.settings import SettingsError, load_settings
from sellerdesk.faq.content.loader import load_content
from sellerdesk.faq.content.model import Content, Seller
from sellerdesk.faq.matching.decision import Action
from sellerdesk.faq.matching.matcher import Matcher
from sellerdesk.faq.matching.semantic import installed
from testing.runner_settings import runner_settings

DEMO = Path(__file__).resolve().parents[3] / "examples" / "sellers"


@pytest.fixture(scope="module")
def desk() -> FaqAnswers:
    return FaqAnswers(load_content(DEMO))


def two_demo_sellers(tmp_path: Path) -> Content:
    """The demo seller twice: ``lotus-wear`` and ``lotus-wear-2``."""
    root = tmp_path / "content"
    shutil.copytree(DEMO / "lotus-wear", root / "lotus-wear")
    shutil.copytree(DEMO / "lotus-wear", root / "lotus-wear-2")
    return load_content(root)


def desk_service(tmp_path: Path, content: Content) -> DeskService:
    """The service the bot runs, on a SQLite file, not prepared yet."""
    db_url = f"sqlite:///{tmp_path / 'desk.db'}"
    root = content.root or DEMO
    settings = runner_settings("http://127.0.0.1:9", "1:x", db_url, str(root))
    return DeskService(settings, content, Database(db_url))


def test_answer_comes_in_the_buyers_language(desk: FaqAnswers) -> None:
    seller = desk.only_seller()
    assert seller is not None
    ru = desk.ask(seller, "Сколько идет доставка?", "ru")
    en = desk.ask(seller, "How long does delivery from China take?", "en")
    assert ru.action is Action.ANSWER and en.action is Action.ANSWER
    entry = seller.entry("delivery-time")
    assert entry is not None
    assert ru.text == entry.answer["ru"]
    assert en.text == entry.answer["en"]


def test_question_language_wins_over_telegram_setting(desk: FaqAnswers) -> None:
    seller = desk.only_seller()
    assert seller is not None
    reply = desk.ask(seller, "多久能到货", "ru")
    assert reply.action is Action.ANSWER
    assert any("\u4e00" <= ch <= "\u9fff" for ch in reply.text)


def test_unknown_topic_tells_where_to_get_help(desk: FaqAnswers) -> None:
    seller = desk.only_seller()
    assert seller is not None
    reply = desk.ask(seller, "расскажи анекдот про программистов", "ru")
    assert reply.action is Action.HANDOFF
    assert reply.text == text("handoff", "ru")


def test_suggestions_are_buttons_with_entry_questions(desk: FaqAnswers) -> None:
    seller = desk.only_seller()
    assert seller is not None
    matcher = desk.matcher(seller)
    # Find a question from the demo dev set that the matcher only suggests.
    for question in ("размер", "возврат", "доставка и оплата", "заказ"):
        reply = desk.ask(seller, question, "ru")
        if reply.action is Action.SUGGEST:
            break
    else:
        pytest.skip("no suggest decision among the probes")
    assert 1 <= len(reply.buttons) <= 3
    for label, data in reply.buttons:
        kind, seller_id, target = data.split(":", 2)
        assert (kind, seller_id) == ("faq", seller.id)
        assert label and desk.answer_text(seller, target, "ru")
    assert matcher is desk.matcher(seller)  # built once per seller


def test_language_choice() -> None:
    assert pick_language(None, "ru-RU") == "ru"
    assert pick_language("de", None) == "en"
    assert pick_language("zh-hans") == "zh"


def test_every_text_has_every_language() -> None:
    assert LANGUAGES == ("ru", "en", "zh")
    for key in ("welcome", "handoff", "card_title"):
        assert has_text(key)
        assert len({text(key, lang, shop="S", number="1") for lang in LANGUAGES}) == 3, key


def test_settings_defaults_and_errors(tmp_path: Path) -> None:
    settings = load_settings({}, env_file=tmp_path / "none")
    assert settings.token == ""
    assert settings.api_url == "https://api.telegram.org"
    assert settings.database_url.startswith("sqlite:///")
    env_file = tmp_path / ".env"
    env_file.write_text('TELEGRAM_BOT_TOKEN="123:abc"\nADMIN_USER_IDS=1, 2\n', encoding="utf-8")
    settings = load_settings({"ADMIN_CHAT_ID": "-100"}, env_file=env_file)
    assert settings.token == "123:abc"
    assert settings.admin_user_ids == {1, 2}
    assert settings.admin_chat_id == -100
    assert "123:abc" not in repr(settings)
    with pytest.raises(SettingsError, match="ADMIN_CHAT_ID"):
        load_settings({"ADMIN_CHAT_ID": "admins"}, env_file=env_file)


@pytest.mark.parametrize(
    "key", ["SLA_TICK_SECONDS", "OUTBOX_LEASE_SECONDS", "OZON_API_RPS", "RETURN_FLOW_TIMEOUT"]
)
@pytest.mark.parametrize("value", ["0", "-5", "inf", "nan", "soon"])
def test_durations_and_rates_must_be_finite_and_positive(
    tmp_path: Path, key: str, value: str
) -> None:
    """A lease or tick of "inf" would overflow date arithmetic at the first use."""
    with pytest.raises(SettingsError, match=f"{key} must be"):
        load_settings({key: value}, env_file=tmp_path / "none")
    assert load_settings({key: "2.5"}, env_file=tmp_path / "none")


@pytest.mark.skipif(not installed("use"), reason="sentence encoder not installed")
def test_answer_in_another_language_says_so() -> None:
    from sellerdesk.faq.content.model import Content, Entry, Seller

    entry = Entry("delivery-time", {"ru": ("Сколько идет доставка?",)}, {"ru": "10–20 дней."})
    seller = Seller(
        id="ru-shop", name="RU", support_chat_id=-1, languages=("ru",), entries=(entry,)
    )
    desk = FaqAnswers(Content({"ru-shop": seller}), matcher="hybrid")
    reply = desk.ask(seller, "How long does delivery take?", "en")
    assert reply.action is Action.ANSWER
    assert reply.text == f"{text('answer_other_language', 'en')}\n\n10–20 дней."
    same = desk.ask(seller, "Сколько идет доставка?", "ru")
    assert same.text == "10–20 дней."


def test_every_sellers_matcher_is_built_before_updates_are_taken(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Built on a buyer's first question, a matcher was built inside that update's
    # transaction (on SQLite every other update waited) while the buyer waited.
    content = two_demo_sellers(tmp_path)
    service = desk_service(tmp_path, content)
    built: list[str] = []
    original = FaqAnswers.build_matcher

    def counting(self: FaqAnswers, seller: Seller, background: bool = False) -> Matcher:
        built.append(seller.id)
        return original(self, seller, background)

    monkeypatch.setattr(FaqAnswers, "build_matcher", counting)
    service.prepare()
    assert sorted(built) == ["lotus-wear", "lotus-wear-2"]
    for seller in content.sellers.values():
        matcher = service.faq.matcher(seller)
        assert matcher.seller is seller
        assert matcher.decide("Сколько идет доставка?").action is Action.ANSWER
    assert len(built) == 2  # questions build nothing more
    assert service.faq.build_all() == 0
    service.db.dispose()


def test_a_seller_whose_matcher_fails_to_build_leaves_the_others_served(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    content = two_demo_sellers(tmp_path)
    desk = FaqAnswers(content, "fuzzy")
    original = FaqAnswers.build_matcher

    def failing(self: FaqAnswers, seller: Seller, background: bool = False) -> Matcher:
        if seller.id == "lotus-wear-2":
            raise OSError("disk gone")
        return original(self, seller, background)

    monkeypatch.setattr(FaqAnswers, "build_matcher", failing)
    assert desk.build_all() == 1
    assert "lotus-wear-2" in caplog.text and "disk gone" in caplog.text
    assert desk.live.current.cached_matcher(content.sellers["lotus-wear"]) is not None
    assert desk.live.current.cached_matcher(content.sellers["lotus-wear-2"]) is None


def test_an_updates_work_is_tried_again_while_the_database_is_unavailable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sellerdesk.bot.service.UNAVAILABLE_PAUSES_S", (0.01, 0.01, 0.01))
    service = desk_service(tmp_path, load_content(DEMO))
    tries: list[str] = []

    def restarting(arg: str) -> str:  # the server comes back at the third try
        tries.append(arg)
        if len(tries) < 3:
            raise OperationalError("SELECT 1", {}, Exception("the database system is starting up"))
        return "done"

    assert asyncio.run(service.call(restarting, "update")) == "done"
    assert len(tries) == 3

    tries.clear()

    def down(arg: str) -> str:
        tries.append(arg)
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    with pytest.raises(OperationalError):
        asyncio.run(service.call(down, "update"))
    assert len(tries) == 4  # the first try and one after each pause, then it gives up

    tries.clear()

    def buggy(arg: str) -> str:
        tries.append(arg)
        raise ValueError("not the database's fault")

    with pytest.raises(ValueError):
        asyncio.run(service.call(buggy, "update"))
    assert len(tries) == 1  # the same work would fail the same way
    service.db.dispose()


@pytest.mark.parametrize("lang", ["ru", "en", "zh"])
def test_an_answer_to_one_part_stays_within_telegrams_limit(desk: FaqAnswers, lang: str) -> None:
    from sellerdesk.bot.desk.answers import MESSAGE_CHARS, REST_QUOTE_CHARS

    answer = "Доставка 10–20 дней. " * 300  # longer than a message holds
    rest = "а вышьете имя? " * 100
    text = desk.with_rest(answer, rest, lang)
    assert len(text) <= MESSAGE_CHARS
    assert text.startswith("Доставка 10–20 дней.")
    quoted = rest[: REST_QUOTE_CHARS - 1] + "…"
    assert quoted in text
    short = desk.with_rest("Да.", "а вышьете имя?", lang)
    assert short.startswith("Да.\n\n") and "а вышьете имя?" in short
