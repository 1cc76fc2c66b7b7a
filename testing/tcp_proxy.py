"""A TCP proxy on loopback that can be cut: a database outage on demand.

The bot connects to the proxy's port instead of the database's; :meth:`TcpProxy.cut`
closes every connection in flight and refuses new ones (each accepted connection is
closed at once, as a restarting server does) until :meth:`TcpProxy.restore`::

    with TcpProxy("127.0.0.1", 5432) as proxy:
        url = pg_url.set(port=proxy.port)
        ...
        proxy.cut()      # the database is gone
        proxy.restore()  # and back

One thread accepts, one thread per connection pumps both directions with ``select``.
Loopback only.
"""

from __future__ import annotations

import contextlib
import select
import socket
import threading
from types import TracebackType

#: Seconds each pump waits in ``select`` before looking whether it was cut.
TICK_S = 0.05
CHUNK = 65536


class TcpProxy:
    """Forwards connections on a free loopback port to ``host:port``."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._cut = False
        self._closed = False
        #: Connections refused while cut, for tests to see the outage was felt.
        self.refused = 0
        self._thread = threading.Thread(target=self._accept, name="tcp-proxy", daemon=True)

    def __enter__(self) -> TcpProxy:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def cut(self) -> None:
        """Close every open connection and refuse new ones."""
        with self._lock:
            self._cut = True
            doomed, self._open = self._open, set()
        for sock in doomed:
            _close(sock)

    def restore(self) -> None:
        with self._lock:
            self._cut = False

    def close(self) -> None:
        self.cut()
        self._closed = True
        _close(self._listener)
        self._thread.join(timeout=5)

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                refused = self._cut
                if refused:
                    self.refused += 1
            if refused:
                _close(client)
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                _close(client)
                continue
            with self._lock:
                self._open.update((client, upstream))
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()

    def _pump(self, client: socket.socket, upstream: socket.socket) -> None:
        peers = {client: upstream, upstream: client}
        try:
            while True:
                with self._lock:
                    if client not in self._open:
                        return
                ready, _, _ = select.select(list(peers), [], [], TICK_S)
                for sock in ready:
                    data = sock.recv(CHUNK)
                    if not data:
                        return
                    peers[sock].sendall(data)
        except (OSError, ValueError):
            return
        finally:
            with self._lock:
                self._open.discard(client)
                self._open.discard(upstream)
            _close(client)
            _close(upstream)


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()
