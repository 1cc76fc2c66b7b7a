"""Repositories: every query the desk runs, one module per aggregate, each taking a ``Session``.

Callers own the transaction (see :func:`storage.db.unit_of_work`); repository
functions only flush, never commit, so a state change and the outbox rows it
causes land together.
"""
