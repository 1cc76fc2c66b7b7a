"""The data of every inline button the desk sends: what each kind carries.

A press comes back as ``<kind>:<part>[:<part>]``; Telegram allows 64 bytes
(:data:`LIMIT`). Handlers trust none of it: each kind's owner checks that the case,
flow or question named exists and belongs to the presser before acting.
"""

from __future__ import annotations

from enum import StrEnum

#: Telegram's limit on callback data, in bytes.
LIMIT = 64


class Button(StrEnum):
    """Kinds of button, each with the parts its data carries."""

    # Buyers' private chats (bot.desk.buyer_buttons).
    SELLER = "seller"  #: a shop chosen: <seller-id>
    FAQ = "faq"  #: an offered FAQ entry or product: <seller-id>:<target>
    HELPED = "helped"  #: the answer helped: <question-log-id> (0: none logged)
    HUMAN = "human"  #: talk to a person: <seller-id>:<question-log-id>
    RATE = "rate"  #: a closed case rated: <case-id>:<1..5>
    LANG = "lang"  #: the bot's language: <code>
    COMPLAIN = "complain"  #: a case taken to the platform admins: <case-id>
    FORGET = "forget"  #: /forget_me confirmed or not: yes | no
    # The return flow in a buyer's chat (bot.desk.returns).
    RETURN_PRODUCT = "rprod"  #: <flow-id>:<offer-id> (empty: another product)
    RETURN_REASON = "rreason"  #: <flow-id>:<reason>
    RETURN_DONE = "rdone"  #: photos sent: <flow-id>
    # Case cards in staff chats (bot.desk.staff).
    CLAIM = "claim"  #: <case-id>
    CLOSE = "close"  #: <case-id>
    TEMPLATES = "tpl"  #: the quick replies' menu: <case-id>
    TEMPLATE_SEND = "tsend"  #: <case-id>:<template-id>
    FAQ_SEND = "fsend"  #: an FAQ entry's answer to the buyer: <case-id>:<target>
    TEACH = "teach"  #: the case's question into the FAQ: <case-id>:<entry-id> | <case-id>:+
    RETURN_APPROVE = "rapprove"  #: <case-id>
    RETURN_REJECT = "rreject"  #: <case-id>
    RETURN_MORE = "rmore"  #: ask the buyer for more: <case-id>
    RETURN_METHOD = "rmethod"  #: how the item goes back: <case-id>:<method>


#: The buyer's return-flow buttons and staff's return-card buttons.
BUYER_RETURN_BUTTONS = (Button.RETURN_PRODUCT, Button.RETURN_REASON, Button.RETURN_DONE)
STAFF_RETURN_BUTTONS = (
    Button.RETURN_APPROVE,
    Button.RETURN_REJECT,
    Button.RETURN_MORE,
    Button.RETURN_METHOD,
)


def data(kind: Button, *parts: object) -> str:
    """The callback data of a ``kind`` button carrying ``parts``."""
    return ":".join([kind.value, *(str(part) for part in parts)])


def fits(value: str) -> bool:
    """Does ``value`` fit Telegram's callback data limit?"""
    return len(value.encode()) <= LIMIT
