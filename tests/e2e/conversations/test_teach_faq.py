"""Staff teach the FAQ from a case: at closing, the buyer's question goes into the
seller's faq.yaml as a new entry with staff's answer (or another wording of an entry
that came close), the content reloads, and the next buyer asking it gets the answer."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from testing.botapi import BotApiDouble
from testing.botapi.model import StoredMessage
from tests.e2e.conversations.test_case_flows import HANDOFF, open_case
from tests.e2e.harness import ADMIN_CHAT, BUYER, DEMO, STAFF, SUPPORT, Desk, run_desk, settings_for

ANSWER = "Да, шьём костюмы на заказ по вашим меркам, срок 3 недели."
OTHER_BUYER = BUYER + 7


def test_a_question_taught_by_one_press_is_answered_next_time(
    api: BotApiDouble, tmp_path: Path
) -> None:
    content = tmp_path / "sellers"
    shutil.copytree(DEMO, content)
    faq = content / "lotus-wear" / "faq.yaml"
    original = faq.read_text("utf-8").splitlines()
    api.add_user(OTHER_BUYER, "Oleg", language_code="ru")
    api.add_group(ADMIN_CHAT, "Admins", is_forum=False)
    settings = settings_for(api, tmp_path, content_dir=content)
    took: list[float] = []

    async def scenario(desk: Desk) -> None:
        topic = await open_case(desk)
        desk.staff_says(ANSWER, topic.thread_id)
        await desk.buyer_gets()

        def offers() -> list[StoredMessage]:
            return [
                m
                for m in api.messages_in(SUPPORT, topic.thread_id)
                if any(b["callback_data"].startswith("teach:") for b in m.buttons)
            ]

        # Offered once staff have answered, before the case is closed.
        (offer,) = await desk.wait(offers)
        desk.staff_says("/close", topic.thread_id)
        await desk.wait(lambda: api.calls_to("closeForumTopic"))
        new = next(b for b in offer.buttons if b["callback_data"].endswith(":+"))
        pressed_at = time.monotonic()
        api.member_presses_button(SUPPORT, STAFF, offer, new["callback_data"])
        await desk.in_topic(topic.thread_id, lambda m: "taught-" in (m.text or ""))

        # The admins see the diff; the change is served at once, no restart.
        await desk.wait(
            lambda: [m for m in api.messages_in(ADMIN_CHAT) if HANDOFF in (m.text or "")]
        )
        other = Desk(api, buyer=OTHER_BUYER)
        await other.buyer_asks("/start lotus-wear")
        reply = await other.buyer_asks(HANDOFF)
        took.append(time.monotonic() - pressed_at)
        assert ANSWER in (reply.text or "")
        paraphrase = await other.buyer_asks("Сошьёте костюм на свадьбу на заказ?")
        assert ANSWER in (paraphrase.text or "")
        # A second press changes nothing more.
        press = api.member_presses_button(SUPPORT, STAFF, offer, new["callback_data"])
        await desk.wait(lambda: api.callback_query(press.id).answered)

    run_desk(api, settings, scenario, content_dir=content)
    # Closing did not offer it again.
    assert sum("teach:" in str(m.reply_markup) for m in api.messages_in(SUPPORT)) == 1
    changed = faq.read_text("utf-8").splitlines()
    # Every line of the file is still there, in order; only the new entry was added.
    rest = iter(changed)
    assert all(any(line == now for now in rest) for line in original)  # all, in order
    added = changed[len(original) :]
    # The new entry's six lines, after a blank line as between the file's entries.
    assert changed[: len(original)] == original
    assert added[0] == "" and len(added) == 7 and added[1].lstrip().startswith("- id: taught-")
    assert any(HANDOFF in line for line in added) and any(ANSWER in line for line in added)
    assert sum("id: taught-" in line for line in changed) == 1
    print(f"taught -> answered in {took[0]:.2f} s")
