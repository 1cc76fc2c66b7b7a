"""The outbox sender: claims due rows, makes the Telegram calls, records what happened.

- :mod:`~bot.telegram_io.outbox.sender`: the loop (claims, batches, heartbeat, stop);
- :mod:`~bot.telegram_io.outbox.delivery`: one row's call and what Telegram's answer
  means (retry, give up, recreate a deleted topic, a buyer who blocked the bot);
- :mod:`~bot.telegram_io.outbox.calls`: the Bot API call of each kind of row;
- :mod:`~bot.telegram_io.outbox.first_copy`: after a try whose answer never came, the
  copy that reached the chat first is kept and the repeat deleted;
- :mod:`~bot.telegram_io.outbox.records`: a send recorded (row, topic, message map);
- :mod:`~bot.telegram_io.outbox.jobs`: a claimed row and its retry arithmetic.
"""

from sellerdesk.bot.telegram_io.outbox.sender import HEARTBEAT_LIVE_S, OutboxSender

__all__ = ["HEARTBEAT_LIVE_S", "OutboxSender"]
