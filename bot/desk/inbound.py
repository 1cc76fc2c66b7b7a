"""What people send, as plain data: handlers turn Telegram updates into these, and the
desk reads only these (so its logic is tested without Telegram)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    """What a message holds, as far as the desk cares."""

    #: Text: a question for the FAQ, or words for a case.
    TEXT = "text"
    #: A photo, document, video, voice note, audio, animation or video note: always
    #: for a person (a photo without text still opens a case).
    MEDIA = "media"
    #: A sticker, location, poll...: relayed within a case, otherwise the buyer is
    #: asked to write.
    OTHER = "other"
    #: A contact card: never relayed (it carries a name, a phone and a user id); staff
    #: hear that one was sent, the buyer that it was not passed on.
    CONTACT = "contact"


@dataclass(frozen=True)
class Incoming:
    """One message (or edit, or command) from a person."""

    update_id: int
    chat_id: int
    user_id: int
    message_id: int
    kind: Kind
    #: The text, or the caption of media; "" when there is none.
    body: str = ""
    #: Telegram's language setting of the user (``ru``, ``en-US``...).
    user_lang: str | None = None
    #: Shown to staff only (who claimed, who closed); never sent to a buyer.
    user_name: str = ""
    thread_id: int | None = None
    #: The message this one replies to, in the same chat.
    reply_to: int | None = None
    #: The replied-to message was the bot's (a copy, a card): it should map to a case.
    reply_to_bot: bool = False
    media_group_id: str | None = None
    #: The text has formatting of its own (bold, a hidden link...), which only a copy
    #: keeps; links, mentions and the like Telegram finds again in any text.
    formatted: bool = False
    edited: bool = False
    #: For commands: the command without the slash and the bot name, and its arguments.
    command: str | None = None
    args: str = ""
    #: The file of a media message: its kind (``photo``, ``document``...) and Telegram
    #: file id, to send it anew where a copy cannot go (a Telegram Business chat).
    media: tuple[str, str] | None = None
    #: The Telegram Business connection the message came through (the seller's own
    #: account); None for the bot's own chats.
    business: str | None = None


@dataclass(frozen=True)
class Press:
    """A press of an inline button."""

    update_id: int
    chat_id: int
    user_id: int
    message_id: int
    data: str
    user_lang: str | None = None
    user_name: str = ""
    thread_id: int | None = None
    #: The message the pressed message replies to (the buyer's question, for FAQ
    #: answers): Telegram supplies it, so it cannot be forged like callback data.
    reply_to: int | None = None
    reply_body: str = ""
    #: The Telegram Business connection of the pressed message, if it is in one.
    business: str | None = None


@dataclass(frozen=True)
class PressResult:
    """What the handler does after a press: a short notice on the button, and whether
    the pressed message's buttons should go (a rating given cannot be given again)."""

    notice: str | None = None
    remove_buttons: bool = False


class NotMappedYet(Exception):
    """A message refers to a bot message (by replying to it, or by editing what the bot
    copied) that maps to no case yet.

    The bot's copy reached Telegram a moment before the sender recorded it; people who
    answer or edit at once can beat that by milliseconds. The handler tries again
    shortly; the transaction rolled back, so the update is not marked handled.
    """
