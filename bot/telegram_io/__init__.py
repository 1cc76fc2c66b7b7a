"""The Bot API side: HTTP client, outbox sender, pacing, ordering, servers, menus.

- :mod:`~bot.telegram_io.http`: the aiohttp request class python-telegram-bot uses;
- :mod:`~bot.telegram_io.outbox`: the sender that claims stored messages and sends
  them; :mod:`~bot.telegram_io.pacing`: Telegram's per-chat and per-bot limits;
- :mod:`~bot.telegram_io.ordering`: one chat's updates in order;
- :mod:`~bot.telegram_io.webhook` and :mod:`~bot.telegram_io.health`: the servers;
- :mod:`~bot.telegram_io.commands`: the command menus shown in each chat.

May import: ``telegram``, ``bot.desk`` (the rules it delivers for), ``bot.i18n``,
``bot.database``, ``bot.settings``, ``storage``.
"""
