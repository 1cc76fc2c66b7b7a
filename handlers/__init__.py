"""Thin Telegram handlers: read an update, call the desk service, reply.

May import: ``telegram`` and ``bot`` (:mod:`bot.service` and the plain data of
:mod:`bot.desk.inbound`). The composition root (:mod:`sellerdesk.app`) registers them.
"""
