"""Bot processes under test: free loopback ports, the health endpoint, readiness."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any

#: The repository root: where ``python -m testing.crash_runner`` runs from.
ROOT = Path(__file__).resolve().parents[1]


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


def start_crash_runner(
    api_url: str,
    token: str,
    database_url: str,
    content_dir: Path,
    lease_s: float,
    env: Mapping[str, str] | None = None,
) -> subprocess.Popen[str]:
    """A bot process (``testing.crash_runner``) polling ``api_url``, once it says it is
    ready; ``env`` is added to this process's environment (pacing, the polling kind)."""
    command = [sys.executable, "-m", "testing.crash_runner", api_url, token, database_url]
    command += [str(content_dir), str(lease_s)]
    proc = subprocess.Popen(
        command, cwd=ROOT, env={**os.environ, **(env or {})}, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    if proc.stdout.readline().strip() != "ready":
        raise RuntimeError("the bot process did not start")
    return proc


def start_webhook_process(
    settings: Mapping[str, str],
    port: int,
    health_port: int,
    env: Mapping[str, str] | None = None,
    stderr: int | None = subprocess.DEVNULL,
) -> subprocess.Popen[bytes]:
    """A ``sellerdesk run --webhook`` process with ``settings`` (see
    ``testing.runner_settings.webhook_env``) once its health endpoint says ok and its
    webhook port takes connections; ``env`` is added to this process's environment."""
    command = [sys.executable, "-m", "sellerdesk", "run", "--webhook"]
    full = {**os.environ, **(env or {}), **settings, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(command, cwd=ROOT, env=full, stderr=stderr)
    try:
        wait_ready(proc, port, health_port)
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    return proc
