"""Bot processes under test: free loopback ports, the health endpoint, readiness."""

from __future__ import annotations

import json
import socket
import subprocess
import time
import urllib.error
import urllib.request
from typing import Any


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def health(port: int) -> tuple[int, dict[str, Any]]:
    """The status and JSON body of ``GET /health`` on ``port``."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=10) as response:
            return int(response.status), json.loads(response.read())
    except urllib.error.HTTPError as error:
        return int(error.code), json.loads(error.read())


def wait_ready(
    proc: subprocess.Popen[bytes], port: int, health_port: int, timeout_s: float = 60
) -> None:
    """Until the health endpoint says ok and the webhook port takes connections (the
    webhook server starts after the health endpoint)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert proc.poll() is None, "a bot process exited at start"
        try:
            if health(health_port)[0] == 200:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise AssertionError("a bot process never became ready")
