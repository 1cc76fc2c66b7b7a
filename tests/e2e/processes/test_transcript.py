"""The walk behind docs/transcript.md still goes through: each of its steps waits for
the reply it expects (a Russian, an English and a Chinese buyer, staff, admins)."""

from __future__ import annotations

import pytest

from testing import transcript


def test_the_documented_walk_goes_through(capsys: pytest.CaptureFixture[str]) -> None:
    transcript.main()
    written = capsys.readouterr().out
    assert written.startswith("# A walk through the desk")
    # A few of the behaviours it shows: small talk is no case, an album is acknowledged
    # once, /cases says what became of a return, the dispute card carries the reason.
    assert written.count("Обращение №1 передано") == 1
    assert written.count("Photos received") == 1
    assert "return rejected · Return 87654321-0002" in written
    assert "Причина отказа: Платье было в носке" in written
