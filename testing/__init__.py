"""Shared helpers for ``tests/`` and ``bench/``: the Bot API double, bot processes
run under test, free ports and throwaway PostgreSQL schemas. Not installed."""
