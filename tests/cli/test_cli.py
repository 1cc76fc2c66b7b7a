"""The sellerdesk command line: exit codes and what admins read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sellerdesk.cli import main
from tests.faq.conftest import FAQ_YAML, PRODUCTS_CSV, SELLER_YAML, WriteSeller


def test_check_ok_and_warnings(
    write_seller: WriteSeller, capsys: pytest.CaptureFixture[str]
) -> None:
    faq = FAQ_YAML + (
        "  - id: delivery-days\n    questions: [Сколько идёт доставка]\n    answer: {ru: 10 дней}\n"
    )
    folder = write_seller(faq=faq)
    assert main(["faq", "check", str(folder.parent)]) == 0
    out = capsys.readouterr().out
    assert "ok: test-shop: 5 FAQ entries" in out
    assert "nearly the same as one of entry 'delivery-time'" in out
    assert "entry delivery-days.answer: no answer in en, zh" in out


def test_check_errors_exit_1(write_seller: WriteSeller, capsys: pytest.CaptureFixture[str]) -> None:
    folder = write_seller(faq="entries:\n  - id: a\n    questions: [q]\n")
    assert main(["faq", "check", str(folder.parent)]) == 1
    out = capsys.readouterr().out
    assert "error:" in out and "faq.yaml:2: entry a.answer: missing required key" in out


def test_ask_prints_decision_and_answer(
    write_seller: WriteSeller, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = write_seller(products=PRODUCTS_CSV)
    code = main(
        ["faq", "ask", "test-shop", "Сколько идет доставка?", "--content", str(folder.parent)]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert out.startswith("matcher: ")
    assert "decision: answer" in out
    assert "delivery-time" in out
    assert "Доставка из Китая занимает 10–20 дней." in out


def test_ask_json_and_unknown_seller(
    write_seller: WriteSeller, capsys: pytest.CaptureFixture[str]
) -> None:
    root = str(write_seller().parent)
    assert main(["faq", "ask", "test-shop", "таможня", "--content", root, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["candidates"][0]["target"] == "customs"
    assert main(["faq", "ask", "nope", "x", "--content", root]) == 2
    assert "No seller 'nope'" in capsys.readouterr().err


def test_eval_json_has_the_contract_keys(
    write_seller: WriteSeller, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = write_seller(products=PRODUCTS_CSV).parent
    cases = tmp_path / "cases.jsonl"
    lines = [
        {
            "seller": "test-shop",
            "text": "сколько ждать доставку",
            "expect": "delivery-time",
            "lang": "ru",
        },
        {
            "seller": "test-shop",
            "text": "какой ёмкости павербанк PB-20",
            "expect": "product:PB-20K",
        },
        {"seller": "test-shop", "text": "можно оплатить криптой?", "expect": None, "lang": "ru"},
    ]
    cases.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines), encoding="utf-8")
    assert main(["faq", "eval", str(cases), "--content", str(root), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    for key in (
        "cases",
        "in_scope",
        "out_of_scope",
        "top1_accuracy",
        "answer_accuracy",
        "suggest_recall",
        "wrong_answer_rate",
        "handoff_recall",
        "per_lang",
        "mean_ms",
        "p99_ms",
    ):
        assert key in result
    assert (result["cases"], result["in_scope"], result["out_of_scope"]) == (3, 2, 1)
    assert result["top1_accuracy"] == 1.0
    assert set(result["per_lang"]) == {"ru"}
    assert result["per_lang"]["ru"]["cases"] == 2


def test_eval_bad_cases_file(
    write_seller: WriteSeller, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = write_seller().parent
    cases = tmp_path / "cases.jsonl"
    cases.write_text('{"seller": "test-shop", "text": "x"}\nnot json\n', encoding="utf-8")
    assert main(["faq", "eval", str(cases), "--content", str(root)]) == 1
    err = capsys.readouterr().err
    assert "cases.jsonl:1: expect:" in err and "cases.jsonl:2: not valid JSON" in err


def test_run_without_token_is_a_clear_message(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    assert main(["run"]) == 2
    assert "TELEGRAM_BOT_TOKEN is not set" in capsys.readouterr().err


def test_run_refuses_a_seller_on_the_init_placeholder_chat(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    content = tmp_path / "sellers"
    assert main(["init", "green-tea", "--content", str(content)]) == 0
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:abc")
    monkeypatch.setenv("CONTENT_DIR", str(content))
    capsys.readouterr()
    assert main(["run"]) == 1
    assert "placeholder of sellerdesk init" in capsys.readouterr().err


def test_check_online_names_each_group_the_bot_cannot_work_in(
    write_seller: WriteSeller, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from testing.botapi import BotApiDouble

    seller = SELLER_YAML + "support_chats:\n  - chat_id: -1001000000002\n    languages: [zh]\n"
    folder = write_seller(seller=seller)
    with BotApiDouble() as api:
        api.add_group(-1001000000001, "Support")
        api.add_group(-1001000000002, "Support zh", can_manage_topics=False)
        monkeypatch.setenv("TELEGRAM_BOT_TOKEN", api.token)
        monkeypatch.setenv("TELEGRAM_API_URL", api.url)
        assert main(["faq", "check", "--online", str(folder.parent)]) == 1
        out = capsys.readouterr().out
        assert "seller.yaml:5: support_chats.chat_id: staff group -1001000000002" in out
        assert "no_topic_rights" in out and "-1001000000001" not in out
        api.set_bot_rights(-1001000000002, status="administrator", can_manage_topics=True)
        assert main(["faq", "check", "--online", str(folder.parent)]) == 0
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN")
    assert main(["faq", "check", "--online", str(folder.parent)]) == 1
    assert "needs TELEGRAM_BOT_TOKEN" in capsys.readouterr().out


def test_check_online_asks_ozon_about_each_sellers_key_and_subscription(
    write_seller: WriteSeller, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from testing.botapi import BotApiDouble
    from testing.ozonapi import OzonApiDouble

    with BotApiDouble() as api, OzonApiDouble() as ozon:
        seller = SELLER_YAML + f'ozon:\n  client_id: "{ozon.client_id}"\n  api_key_env: KEY_T\n'
        folder = write_seller(seller=seller)
        api.add_group(-1001000000001, "Support")
        monkeypatch.setenv("TELEGRAM_BOT_TOKEN", api.token)
        monkeypatch.setenv("TELEGRAM_API_URL", api.url)
        monkeypatch.setenv("OZON_API_URL", ozon.url)
        monkeypatch.delenv("KEY_T", raising=False)
        assert main(["faq", "check", "--online", str(folder.parent)]) == 1
        assert "seller.yaml:4: ozon: KEY_T is not set" in capsys.readouterr().out
        monkeypatch.setenv("KEY_T", "wrong")
        assert main(["faq", "check", "--online", str(folder.parent)]) == 1
        assert "Ozon refused the Client-Id and key" in capsys.readouterr().out
        monkeypatch.setenv("KEY_T", ozon.api_key)
        ozon.buyer_writes("chat-1", "Где мой заказ?")
        ozon.premium = False
        assert main(["faq", "check", "--online", str(folder.parent)]) == 1
        assert "Premium Plus or Premium Pro?" in capsys.readouterr().out
        ozon.premium = True
        assert main(["faq", "check", "--online", str(folder.parent)]) == 0
        # Product questions on, chats off: the questions' method is what is asked.
        questions = seller + "  chats: false\n  questions: true\n"
        folder = write_seller(seller=questions)
        ozon.premium = False
        assert main(["faq", "check", "--online", str(folder.parent)]) == 1
        assert "may not read product questions" in capsys.readouterr().out
