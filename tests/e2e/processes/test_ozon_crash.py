"""The bot process killed with SIGKILL while it answers Ozon buyer chats, restarted on
the same SQLite file: every buyer message is answered exactly once, with 429 and 5xx
on the way."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from sellerdesk.bot.channels.ozon_client import split_text
from sellerdesk.bot.desk.answers import FaqAnswers
from sellerdesk.faq.content.loader import load_content
from testing.botapi import BotApiDouble
from testing.ozonapi import OzonApiDouble
from testing.processes import start_crash_runner, stop_process
from testing.runner_settings import UNPACED_ENV
from tests.e2e.harness import DEMO, SUPPORT

ADMIN_CHAT = -1009000000009
QUESTION = "Сколько идет доставка?"
MESSAGES = 60
CHATS = 6


def test_a_sigkill_mid_answers_loses_and_doubles_nothing(tmp_path: Path) -> None:
    with BotApiDouble() as api, OzonApiDouble() as ozon:
        api.add_group(SUPPORT, "Lotus Wear support", is_forum=True)
        api.add_group(ADMIN_CHAT, "Admins", is_forum=False)
        root = tmp_path / "sellers"
        shutil.copytree(DEMO, root)
        seller_file = root / "lotus-wear" / "seller.yaml"
        seller_file.write_text(
            seller_file.read_text("utf-8")
            + f'ozon:\n  client_id: "{ozon.client_id}"\n  api_key_env: OZON_KEY_CRASH\n',
            "utf-8",
        )
        content = load_content(root)
        seller = content.sellers["lotus-wear"]
        faq = FaqAnswers(content, "fuzzy")
        decision = faq.matcher(seller).decide(QUESTION)
        assert decision.best is not None
        parts = split_text(faq.answer_text(seller, decision.best.target, "ru"))
        env = {
            **UNPACED_ENV,
            "OZON_KEY_CRASH": ozon.api_key,
            "OZON_API_URL": ozon.url,
            "OZON_POLL_SECONDS": "0.3",
        }
        db_url = f"sqlite:///{tmp_path / 'desk.db'}"
        proc = start_crash_runner(api.url, api.token, db_url, root, 60.0, env)
        try:
            for n in range(MESSAGES):
                ozon.buyer_writes(f"chat-{n % CHATS}", QUESTION)
                if n % 10 == 3:
                    ozon.fail_next(429, retry_after=0.1)
                if n % 10 == 7:
                    ozon.fail_next(500)
                if n == MESSAGES // 2:
                    ozon.wait_for(lambda: ozon.sent, 10)  # answers are going out
                    proc.kill()  # SIGKILL: no cleanup
                    proc.wait()
                    proc = start_crash_runner(api.url, api.token, db_url, root, 60.0, env)
                time.sleep(0.02)
            per_chat = MESSAGES // CHATS
            ozon.wait_for(
                lambda: all(
                    len(ozon.sent_in(f"chat-{c}")) >= per_chat * len(parts) for c in range(CHATS)
                ),
                60,
            )
            time.sleep(1.5)  # a late double would show by now
        finally:
            stop_process(proc)
        # (A chat whose answer was sent just before the kill is marked read once that
        # answer is settled from the history, a minute later: not waited for here.)
        for c in range(CHATS):
            assert ozon.sent_in(f"chat-{c}") == parts * per_chat
