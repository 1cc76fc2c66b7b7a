"""The platform admins' side: commands and messages in the admin chat.

An admin addresses a case by replying to any bot message about it in the admin chat
(the escalation or complaint card, the history), or by naming it:
``/takeover <seller> <number>``. After ``/takeover`` the admin's messages in the
admin chat reach the buyer signed as the platform (replies to that case's messages,
or any message while they hold exactly one case); ``/resolve`` closes the case and
``/handback`` returns it to the seller's staff. The seller's topic is told each time.
"""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from sellerdesk.bot.database import Database
from sellerdesk.bot.desk import cases, outgoing
from sellerdesk.bot.desk.cases import DeskContext
from sellerdesk.bot.desk.inbound import Incoming, Kind, NotMappedYet
from sellerdesk.bot.desk.outgoing import Side
from sellerdesk.bot.i18n.texts import pick_language, text
from sellerdesk.storage.models import Case, Direction
from sellerdesk.storage.repo import cases as cases_repo
from sellerdesk.storage.repo import updates

log = logging.getLogger(__name__)

#: Commands of the admin chat.
COMMANDS = ("takeover", "resolve", "handback")


class AdminConversation:
    """Handles updates from the admin chat."""

    def __init__(self, db: Database, ctx: DeskContext) -> None:
        self.db = db
        self.ctx = ctx

    def _say(
        self,
        session: Session,
        chat_id: int,
        key: str,
        reply_to: int,
        case: Case | None = None,
        **values: str,
    ) -> None:
        outgoing.send_text(
            session,
            chat_id=chat_id,
            text=text(key, self.ctx.admin_language, **values),
            side=Side.ADMIN,
            case_id=case.id if case else None,
            reply_to=reply_to,
            # Mapped, so the admin may reply to the confirmation to address the case.
            record=Direction.SYSTEM if case else None,
        )

    def _case_of(self, session: Session, msg: Incoming, *, held: bool = True) -> Case | None:
        """The case a message addresses: by reply, by ``<seller> <number>``, or (a
        command, ``held``) the one case the admin holds."""
        if msg.reply_to is not None:
            case = cases_repo.find_case_by_staff_message(session, msg.chat_id, msg.reply_to)
            if case is not None:
                return case
            if msg.reply_to_bot:
                return None
        parts = msg.args.split() if msg.command else []
        if len(parts) == 2 and parts[1].lstrip("#").isdigit():
            return cases_repo.get_case_by_number(
                session, parts[0].lower(), int(parts[1].lstrip("#"))
            )
        if not held:
            return None
        holding = cases_repo.list_admin_cases(session, msg.user_id)
        return holding[0] if len(holding) == 1 else None

    def reload_allowed(self, msg: Incoming) -> bool:
        """``/reload``: True when a platform admin sent it (the reload itself runs on the
        event loop, see :mod:`bot.reload`); anyone else is told it is for admins."""
        with self.db.transaction() as session:
            if not updates.mark_processed(session, msg.update_id):
                return False
            if msg.user_id in self.ctx.admin_user_ids:
                return True
            self._say(session, msg.chat_id, "admin_only", msg.message_id)
            return False

    def command(self, msg: Incoming, *, final: bool = True) -> None:
        """``/takeover``, ``/resolve``, ``/handback`` from an admin.

        Raises:
            NotMappedYet: unless ``final``, when it replies to an unmapped bot message.
        """
        with self.db.transaction() as session:
            if not updates.mark_processed(session, msg.update_id):
                return
            if msg.command not in COMMANDS:
                return  # other commands in the admin chat are not for the bot
            if msg.user_id not in self.ctx.admin_user_ids:
                self._say(session, msg.chat_id, "admin_only", msg.message_id)
                return
            case = self._case_of(session, msg)
            if case is None and msg.reply_to_bot and not final:
                raise NotMappedYet
            seller = self.ctx.seller(case.seller_id) if case else None
            if case is None or seller is None:
                self._say(session, msg.chat_id, "admin_which_case", msg.message_id)
                return
            number = str(case.number)
            if not cases.is_open(case):
                self._say(
                    session, msg.chat_id, "admin_case_closed", msg.message_id, case, number=number
                )
                return
            actor = f"admin:{msg.user_id}"
            if msg.command == "takeover":
                cases_repo.take_over(session, case.id, msg.user_id)
                self._say(
                    session,
                    msg.chat_id,
                    "admin_taken",
                    msg.message_id,
                    case,
                    number=number,
                    shop=seller.name,
                )
                cases.staff_note(session, case, seller, "staff_taken_over", number=number)
                cases.buyer_note(session, case, "buyer_platform_joined", number=number)
            elif msg.command == "handback":
                if cases_repo.hand_back(session, case.id, actor=actor):
                    cases.staff_note(session, case, seller, "staff_handed_back", number=number)
                self._say(
                    session, msg.chat_id, "admin_handed_back", msg.message_id, case, number=number
                )
            else:
                cases_repo.hand_back(session, case.id, actor=actor)
                name = text("platform_name", cases.staff_lang(seller))
                cases.close(session, self.ctx, case, seller, actor=actor, name=name)
                self._say(
                    session, msg.chat_id, "admin_resolved", msg.message_id, case, number=number
                )

    def message(self, msg: Incoming, *, final: bool = True) -> None:
        """An admin's reply, in the admin chat, to a message of a case they took over:
        to its buyer, signed as the platform. Anything else in the chat is the admins'
        own talk, even while an admin holds a case: only a reply addresses the buyer.

        Raises:
            NotMappedYet: unless ``final``, when it replies to an unmapped bot message.
        """
        with self.db.transaction() as session:
            if not updates.mark_processed(session, msg.update_id):
                return
            if msg.edited or msg.user_id not in self.ctx.admin_user_ids:
                return
            case = self._case_of(session, msg, held=False)
            if case is None and msg.reply_to_bot and not final:
                raise NotMappedYet
            seller = self.ctx.seller(case.seller_id) if case else None
            if case is None or seller is None or case.admin_id != msg.user_id:
                if msg.reply_to is not None and case is not None:
                    self._say(session, msg.chat_id, "admin_take_first", msg.message_id, case)
                return
            if not cases.is_open(case) or cases.buyer_chat(case) is None:
                self._say(
                    session,
                    msg.chat_id,
                    "admin_case_closed",
                    msg.message_id,
                    case,
                    number=str(case.number),
                )
                return
            lang = pick_language(case.lang)
            if msg.kind is Kind.TEXT:
                body = text("platform_signed", lang, text=msg.body)
                cases.buyer_note(session, case, "platform_signed", text=msg.body)
            else:
                # Media keep their caption; the signature goes just before them.
                body = text("platform_signed", lang, text=msg.body or "📎")
                cases.buyer_note(session, case, "platform_signed", text="📎")
                target = cases.buyer_chat(case)
                assert target is not None  # (checked above)
                outgoing.copy_messages(
                    session,
                    chat_id=target,
                    from_chat_id=msg.chat_id,
                    message_ids=[msg.message_id],
                    side=Side.BUYER,
                    case_id=case.id,
                    record=Direction.TO_BUYER,
                    content=outgoing.Content(msg.body, msg.media),
                )
            # The seller's staff read what the platform told their buyer.
            cases.staff_note(session, case, seller, "staff_platform_said", text=body)
            cases_repo.record_staff_reply(session, case.id)
