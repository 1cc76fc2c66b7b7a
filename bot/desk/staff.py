"""The staff side of the desk: messages and commands in a seller's support chat, and
the case card's buttons.

A staff message belongs to a case by the message it replies to (any copy or bot
message of the case: plain-group mode, and replies inside a topic) or else by its
forum topic. Staff writing anywhere else get a short hint, at most once an hour per
place, so a chatty General topic is not flooded.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session

from sellerdesk.bot.database import Database
from sellerdesk.bot.desk import cases, outgoing, returns
from sellerdesk.bot.desk.callbacks import STAFF_RETURN_BUTTONS, Button, data, fits
from sellerdesk.bot.desk.cases import DeskContext
from sellerdesk.bot.desk.inbound import Incoming, Kind, NotMappedYet, Press, PressResult
from sellerdesk.bot.desk.outgoing import Side
from sellerdesk.bot.i18n.texts import pick_language, text
from sellerdesk.faq.content import editing
from sellerdesk.faq.content.model import Seller
from sellerdesk.storage.models import Case, CaseKind, Direction
from sellerdesk.storage.repo import cases as cases_repo
from sellerdesk.storage.repo import updates
from sellerdesk.storage.types import utcnow

log = logging.getLogger(__name__)

#: The case event of a question put into the FAQ (data: the button's target, the entry).
EVENT_TAUGHT = "taught"

#: Case event kind of a staff note.
EVENT_NOTE = "note"
#: Longest note kept in the event log (the message itself stays in the topic).
NOTE_CHARS = 2000
#: Commands staff use in a case.
COMMANDS = ("note", "t", "claim", "close", "reopen", "reject")


def _hint_key(kind: str, chat_id: int, where: int | None, now: datetime) -> str:
    """One hint per place and hour: the outbox drops a second one with the same key."""
    return f"hint:{kind}:{chat_id}:{where or 0}:{now:%Y%m%d%H}"


class StaffConversation:
    """Handles updates from support chats."""

    def __init__(self, db: Database, ctx: DeskContext) -> None:
        self.db = db
        self.ctx = ctx
        #: Checks of a staff message that belongs to no case: each may take it as its
        #: own (a reply to an Ozon question's draft is the answer to publish) and say so.
        self.reply_hooks: list[Callable[[Session, Incoming], bool]] = []
        #: Called (from any thread) once a change staff made to a faq.yaml is
        #: committed: the service reloads the content.
        self.content_changed: Callable[[], None] | None = None

    # ------------------------------------------------------------------ finding the case

    def _case_of(self, session: Session, msg: Incoming) -> Case | None:
        if msg.reply_to is not None:
            case = cases_repo.find_case_by_staff_message(session, msg.chat_id, msg.reply_to)
            if case is not None:
                return case
        if msg.thread_id is not None:
            return cases_repo.find_case_by_thread(session, msg.chat_id, msg.thread_id)
        return None

    def _hint(self, session: Session, msg: Incoming, key: str, kind: str) -> None:
        sellers = self.ctx.sellers_of_chat(msg.chat_id)
        if not sellers:
            return
        lang = cases.staff_lang(sellers[0])
        outgoing.send_text(
            session,
            chat_id=msg.chat_id,
            text=text(key, lang),
            side=Side.STAFF,
            reply_to=msg.message_id,
            thread_id=msg.thread_id,
            dedupe_key=_hint_key(kind, msg.chat_id, msg.thread_id or msg.user_id, utcnow()),
        )

    def _no_case_hint(self, session: Session, msg: Incoming) -> None:
        sellers = self.ctx.sellers_of_chat(msg.chat_id)
        plain = bool(sellers) and not sellers[0].topics
        # A command always deserves an answer; chatter gets one hint per place and hour.
        kind = f"cmd{msg.message_id}" if msg.command else "where"
        self._hint(session, msg, "staff_hint_plain" if plain else "staff_hint_general", kind)

    def _allowed(self, session: Session, msg: Incoming, seller: Seller) -> bool:
        if self.ctx.is_staff(seller, msg.user_id, msg.chat_id):
            return True
        self._hint(session, msg, "staff_not_staff", f"who{msg.user_id}")
        return False

    # ------------------------------------------------------------------ messages

    def message(self, msg: Incoming, *, final: bool = True) -> None:
        """A staff message: to the buyer if it belongs to an open case, else a hint.

        Raises:
            NotMappedYet: unless ``final``, when it replies to an unmapped bot message.
        """
        with self.db.transaction() as session:
            if not updates.mark_processed(session, msg.update_id):
                return
            case = self._case_of(session, msg)
            if case is None and any(hook(session, msg) for hook in self.reply_hooks):
                return  # a reply to another channel's message (an Ozon question's draft)
            if case is None and msg.reply_to_bot and not final:
                raise NotMappedYet
            seller = self.ctx.seller(case.seller_id) if case else None
            if case is None or seller is None:
                if not msg.edited:
                    self._no_case_hint(session, msg)
                return
            if not self._allowed(session, msg, seller):
                return
            if msg.edited:
                self._edited(session, case, msg)
                return
            if cases.is_open(case) and returns.staff_message(session, case, seller, msg):
                return
            if not cases.is_open(case):
                cases.staff_note(
                    session,
                    case,
                    seller,
                    "staff_case_closed",
                    reply_to=msg.message_id,
                    number=str(case.number),
                )
                return
            cases.relay_to_buyer(
                session,
                case,
                staff_chat_id=msg.chat_id,
                message_id=msg.message_id,
                media_group_id=msg.media_group_id,
                reply_to=msg.reply_to,
                body=msg.body,
                plain=msg.kind is Kind.TEXT and not msg.formatted,
                media=msg.media,
                teach=(self.ctx, seller),
            )

    def _edited(self, session: Session, case: Case, msg: Incoming) -> None:
        """A relayed staff message was edited: the buyer gets the new wording as a reply
        to their copy (copies are separate messages; editing them would need one call
        per message kind, and the buyer would not notice a silent change)."""
        buyer_chat = cases.buyer_chat(case)
        if buyer_chat is None or not cases.is_open(case) or not msg.body.strip():
            return
        prefix = text("edited_prefix", pick_language(case.lang))
        outgoing.send_text(
            session,
            chat_id=buyer_chat,
            text=f"{prefix}\n{msg.body}",
            side=Side.BUYER,
            case_id=case.id,
            reply_ref=(msg.chat_id, msg.message_id),
            record=Direction.SYSTEM,
        )

    # ------------------------------------------------------------------ commands

    def command(self, msg: Incoming, *, final: bool = True) -> None:
        """``/note``, ``/t``, ``/claim``, ``/close``, ``/reopen`` in a case.

        Raises:
            NotMappedYet: as :meth:`message`.
        """
        with self.db.transaction() as session:
            if not updates.mark_processed(session, msg.update_id):
                return
            case = self._case_of(session, msg)
            if case is None and msg.reply_to_bot and not final:
                raise NotMappedYet
            seller = self.ctx.seller(case.seller_id) if case else None
            if case is None or seller is None or msg.command not in COMMANDS:
                self._no_case_hint(session, msg)
                return
            if not self._allowed(session, msg, seller):
                return
            actor = f"staff:{msg.user_id}"
            name = msg.user_name or str(msg.user_id)
            number = str(case.number)
            if msg.command == "note":
                self._note(session, case, seller, msg)
            elif msg.command == "t" and not msg.args.strip():
                # "/t" alone: the menu of quick replies, not "no template «»".
                self._templates_menu(session, case, seller)
            elif msg.command == "t":
                self._template(session, case, seller, msg.args.strip(), msg.message_id)
            elif msg.command == "claim":
                self._claim(session, case, seller, msg.user_id, name)
            elif msg.command == "close":
                if not cases.close(session, self.ctx, case, seller, actor=actor, name=name):
                    cases.staff_note(session, case, seller, "staff_case_closed", number=number)
            elif msg.command == "reject":
                self._reject(session, case, seller, msg, name)
            elif msg.command == "reopen":
                if cases.is_open(case):
                    cases.staff_note(session, case, seller, "staff_already_open")
                elif not cases.reopen(session, self.ctx, case, seller, actor=actor, name=name):
                    cases.staff_note(session, case, seller, "staff_cannot_reopen")

    def _reject(
        self, session: Session, case: Case, seller: Seller, msg: Incoming, name: str
    ) -> None:
        """``/reject <reason>`` in a return topic."""
        if case.kind is not CaseKind.RETURN or not cases.is_open(case):
            cases.staff_note(session, case, seller, "return_staff_not_return")
        elif not msg.args.strip():
            cases.staff_note(session, case, seller, "return_staff_reject_usage")
        else:
            returns.reject(session, case, seller, msg.user_id, name, msg.args.strip())

    def _note(self, session: Session, case: Case, seller: Seller, msg: Incoming) -> None:
        """An internal note: logged on the case, never sent to the buyer."""
        note = msg.args.strip()
        if not note:
            cases.staff_note(session, case, seller, "staff_note_usage", reply_to=msg.message_id)
            return
        cases_repo.add_event(
            session,
            case.id,
            EVENT_NOTE,
            actor=f"staff:{msg.user_id}",
            data={"text": note[:NOTE_CHARS]},
        )
        cases.staff_note(session, case, seller, "staff_note_saved", reply_to=msg.message_id)

    def _claim(self, session: Session, case: Case, seller: Seller, user_id: int, name: str) -> str:
        lang = cases.staff_lang(seller)
        if not cases.is_open(case):
            cases.staff_note(session, case, seller, "staff_case_closed", number=str(case.number))
            return text("staff_case_closed", lang, number=str(case.number))
        if cases_repo.claim_case(session, case.id, user_id):
            cases.staff_note(
                session, case, seller, "staff_claimed", number=str(case.number), name=name
            )
            return text("staff_claimed", lang, number=str(case.number), name=name)
        return text("staff_claimed_already", lang)

    def _template(
        self, session: Session, case: Case, seller: Seller, template_id: str, reply_to: int | None
    ) -> None:
        """Send a quick reply in the buyer's language; staff see what went."""
        template = next((t for t in seller.templates if t.id == template_id), None)
        if template is None:
            known = ", ".join(t.id for t in seller.templates) or "—"
            key = "staff_unknown_template" if seller.templates else "staff_no_templates"
            cases.staff_note(
                session, case, seller, key, reply_to=reply_to, template=template_id, known=known
            )
            return
        if not cases.is_open(case):
            cases.staff_note(session, case, seller, "staff_case_closed", number=str(case.number))
            return
        body = template.text_in(case.lang, seller.languages)
        buyer_chat = cases.buyer_chat(case)
        if buyer_chat is None:
            return
        outgoing.send_text(
            session,
            chat_id=buyer_chat,
            text=body,
            side=Side.BUYER,
            case_id=case.id,
            record=Direction.SYSTEM,
        )
        cases_repo.record_staff_reply(session, case.id)
        cases.staff_note(
            session, case, seller, "staff_template_sent", template=template.id, text=body
        )

    def _faq_send(
        self, session: Session, case: Case, seller: Seller, target: str, lang: str
    ) -> str | None:
        """A one-tap answer: the FAQ entry's (or product's) answer goes to the buyer in
        their language, as a staff reply would (it stops the reply clock); staff see
        what went. Returns the notice on the button."""
        known = (
            seller.product(target.removeprefix("product:")) is not None
            if target.startswith("product:")
            else seller.entry(target) is not None
        )
        if not known:  # removed from the FAQ since the card was made, or forged
            return text("staff_faq_gone", lang)
        buyer_chat = cases.buyer_chat(case)
        if buyer_chat is None:
            return text("staff_case_closed", lang, number=str(case.number))
        answer = self.ctx.faq.answer(seller, target, pick_language(case.lang))
        body = answer.text
        outgoing.send_answer(
            session,
            answer,
            chat_id=buyer_chat,
            side=Side.BUYER,
            case_id=case.id,
            record=Direction.SYSTEM,
        )
        cases_repo.record_staff_reply(session, case.id)
        label = self.ctx.faq.label(seller, target, lang)
        cases.staff_note(session, case, seller, "staff_faq_sent", entry=label, text=body)
        return text("staff_faq_sent_notice", lang)

    def _teach(
        self, session: Session, case: Case, seller: Seller, target: str, user_id: int, lang: str
    ) -> str:
        """Put the case's question into the seller's faq.yaml (see
        ``faq.content.editing``): as another wording of entry ``target``, or, for
        :data:`cases.TEACH_NEW`, as a new entry answered with staff's first answer in
        the buyer's language. Once per case and kind; the admin chat gets the diff and
        the content is reloaded once this is committed. Returns the button's notice."""
        done = {
            str(e.data.get("target"))
            for e in cases_repo.list_events(session, case.id)
            if e.kind == EVENT_TAUGHT
        }
        question = (case.subject or "").strip()
        if target in done or (target == cases.TEACH_NEW and done):
            return text("staff_teach_done", lang)
        if seller.path is None or not question:
            return text("staff_teach_refused", lang, reason="—")
        buyer_lang = pick_language(case.lang, seller.default_language)
        try:
            if target == cases.TEACH_NEW:
                if not case.first_answer:
                    raise editing.EditRefused("staff have not answered this case")
                base = editing.entry_id_for(question, case.number)
                taught = editing.teach_entry(seller, base, buyer_lang, question, case.first_answer)
            else:
                if seller.entry(target) is None:
                    raise editing.EditRefused(f"the entry {target} is not in the FAQ now")
                taught = editing.teach_question(seller, target, buyer_lang, question)
        except editing.EditRefused as refused:
            log.info("case %s: FAQ not changed: %s", case.id, refused)
            cases.staff_note(session, case, seller, "staff_teach_refused", reason=str(refused))
            return text("staff_teach_refused", lang, reason=str(refused))
        edit = taught.edit
        cases_repo.add_event(
            session,
            case.id,
            EVENT_TAUGHT,
            actor=f"staff:{user_id}",
            data={"target": target, "entry": edit.entry_id},
        )
        cases.staff_note(session, case, seller, "staff_taught", entry=edit.entry_id)
        if self.ctx.admin_chat_id is not None:
            outgoing.send_text(
                session,
                chat_id=self.ctx.admin_chat_id,
                text=text(
                    "admin_taught",
                    self.ctx.admin_language,
                    seller=seller.id,
                    number=str(case.number),
                    diff=edit.diff,
                ),
                side=Side.ADMIN,
            )
        # Served once this is committed: the seller with the change when the entry's own
        # lines were edited, else the content reloaded.
        served = taught.seller
        after = session.info.setdefault(outgoing.AFTER_COMMIT_KEY, [])
        if served is not None:
            after.append(lambda: self._serve_taught(served))
        elif self.content_changed is not None:
            after.append(self.content_changed)
        return text("staff_taught", lang, entry=edit.entry_id)

    def _serve_taught(self, seller: Seller) -> None:
        if not self.ctx.faq.replace_seller(seller) and self.content_changed is not None:
            self.content_changed()  # the content changed meanwhile: read it again

    def _templates_menu(self, session: Session, case: Case, seller: Seller) -> None:
        lang = cases.staff_lang(seller)
        if not seller.templates:
            cases.staff_note(session, case, seller, "staff_no_templates")
            return
        rows = [
            [(t.id, data(Button.TEMPLATE_SEND, case.id, t.id))]
            for t in seller.templates
            if fits(data(Button.TEMPLATE_SEND, case.id, t.id))
        ]
        outgoing.send_text(
            session,
            chat_id=case.staff_chat_id or seller.support_chat_id,
            text=text("staff_templates", lang),
            side=Side.STAFF,
            case_id=case.id,
            buttons=rows,
            record=Direction.SYSTEM,
        )

    # ------------------------------------------------------------------ buttons

    def press(self, press: Press) -> PressResult:
        """A case card button. The data names a case; it is acted on only if that case
        exists, lives in the chat where the button was pressed, and the presser is
        staff of its seller, so forged data cannot reach another chat's case."""
        with self.db.transaction() as session:
            if not updates.mark_processed(session, press.update_id):
                return PressResult()
            kind, _, rest = press.data.partition(":")
            case_id, _, extra = rest.partition(":")
            case = cases_repo.get_case(session, int(case_id)) if case_id.isdigit() else None
            seller = self.ctx.seller(case.seller_id) if case else None
            sellers = self.ctx.sellers_of_chat(press.chat_id)
            known = seller or (sellers[0] if sellers else None)
            lang = cases.staff_lang(known) if known else pick_language(None)
            if (
                case is None
                or seller is None
                or case.staff_chat_id != press.chat_id
                or kind
                not in (
                    Button.CLAIM,
                    Button.CLOSE,
                    Button.TEMPLATES,
                    Button.TEMPLATE_SEND,
                    Button.FAQ_SEND,
                    Button.TEACH,
                    *STAFF_RETURN_BUTTONS,
                )
            ):
                log.warning("refused button %r in chat %s", press.data, press.chat_id)
                return PressResult(text("stale_button", lang))
            if not self.ctx.is_staff(seller, press.user_id, press.chat_id):
                return PressResult(text("staff_not_staff", lang))
            name = press.user_name or str(press.user_id)
            if kind in STAFF_RETURN_BUTTONS:
                return returns.staff_press(session, case, seller, press, kind, extra)
            if kind == Button.TEACH:  # on a closed case, too: that is when it is offered
                return PressResult(self._teach(session, case, seller, extra, press.user_id, lang))
            if not cases.is_open(case):
                # A closed case's card: its buttons go, and staff hear how to go on.
                number = str(case.number)
                return PressResult(
                    text("staff_card_closed", lang, number=number), remove_buttons=True
                )
            if kind == Button.CLAIM:
                return PressResult(self._claim(session, case, seller, press.user_id, name))
            if kind == Button.CLOSE:
                actor = f"staff:{press.user_id}"
                if cases.close(session, self.ctx, case, seller, actor=actor, name=name):
                    return PressResult(remove_buttons=True)  # a closed card has no buttons
                return PressResult(text("staff_case_closed", lang, number=str(case.number)))
            if kind == Button.TEMPLATES:
                self._templates_menu(session, case, seller)
                return PressResult()
            if kind == Button.FAQ_SEND:
                return PressResult(self._faq_send(session, case, seller, extra, lang))
            self._template(session, case, seller, extra, None)
            return PressResult()
