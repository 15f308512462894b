"""Outbound connections, whatever the client: `socket.socket.connect` and `connect_ex` see raw sockets,
urllib3/requests, httpx, aiohttp, asyncio streams and pure-Python database drivers alike (all make their
sockets with `socket.socket`); `http.client` and httpx's transports add the URL; `socket.getaddrinfo` gives
the host name that was asked for.

These are thin wrappers on the Python socket class, not a `socket.connect` audit hook: an audit hook is called
for every audit event of the process (pytest alone raises about twenty per test) and can never be removed,
where the wrappers cost nothing but on a connect and are restored at the end of the run. A client that is mocked
(httpx's MockTransport, responses, requests-mock) never reaches them, so what is recorded is what really left
the test process. Connections of the collector's own sender thread are never recorded or blocked.

A socket connect and the HTTP request made over it are one entry: the endpoint's socket-level entry is folded
into its HTTP entries when the effects are summarised. Connections to well-known database ports and database
unix sockets are labelled `db`, not mistaken for unmocked HTTP.
"""

from __future__ import annotations

import socket
import sys
import threading
from typing import Any

from suitescope.collector.instrument.base import Instrument
from suitescope.collector.instrument.effects import Effects, is_loopback

SENDER_THREAD = "suitescope-sender"  # the collector's own uploads run in a thread of this name
URL_LIMIT = 300
DB_PORTS = {
    5432: "postgresql",
    3306: "mysql",
    6379: "redis",
    27017: "mongodb",
    11211: "memcached",
    5672: "amqp",
    9042: "cassandra",
    1433: "mssql",
    1521: "oracle",
    4222: "nats",
    1883: "mqtt",
}
DB_SOCKET_HINTS = (".s.PGSQL", "mysql", "redis", "mariadb")


class NetworkBlocked(ConnectionRefusedError):
    """Raised into a test that connects to a non-loopback host under `--suitescope-block-network`."""


_lookups: dict[int, str] = {}  # port -> the host name last looked up for it (any thread: asyncio resolves in one)


class NetworkCalls(Instrument):
    name = "network"
    group = "net"

    def install(self) -> None:
        self.socket_patches = [
            (socket.socket, "connect", socket.socket.connect),
            (socket.socket, "connect_ex", socket.socket.connect_ex),
            (socket, "getaddrinfo", socket.getaddrinfo),
        ]
        socket.socket.connect = self.wrap_connect(socket.socket.connect)  # type: ignore[method-assign]
        socket.socket.connect_ex = self.wrap_connect(socket.socket.connect_ex)  # type: ignore[method-assign]
        socket.getaddrinfo = self.wrap_getaddrinfo(socket.getaddrinfo)
        self.client_patches: list[tuple[type, str, Any]] = []  # http.client's and httpx's, once imported
        self.patched_clients: set[str] = set()
        self.on = True
        self.poll()

    def uninstall(self) -> None:
        self.on = False
        for owner, name, original in self.client_patches + self.socket_patches:
            setattr(owner, name, original)
        self.client_patches.clear()
        self.socket_patches.clear()

    def wrap_connect(self, original: Any) -> Any:
        def connect(sock: socket.socket, address: Any) -> Any:
            if self.on:
                self.on_connect(sock, address)  # may raise NetworkBlocked, before anything is sent
            return original(sock, address)

        return connect

    def wrap_getaddrinfo(self, original: Any) -> Any:
        def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
            if self.on and isinstance(port, int) and host is not None:
                _lookups[port] = host.decode(errors="replace") if isinstance(host, bytes) else str(host)
            return original(host, port, *args, **kwargs)

        return getaddrinfo

    def poll(self) -> None:
        """The HTTP clients whose URLs we read may be imported after the run started (or never: importing
        http.client ourselves would cost a suite that does not use it 15 ms): patch each once it is there."""
        if not self.on:
            return
        for name, patch in (("http.client", self.patch_http_client), ("httpx", self.patch_httpx)):
            if name not in self.patched_clients and name in sys.modules:
                self.patched_clients.add(name)
                patch(sys.modules[name])

    def patch_http_client(self, client: Any) -> None:
        connection = client.HTTPConnection
        self.client_patches.append((connection, "putrequest", connection.putrequest))
        connection.putrequest = self.wrap_putrequest(connection.putrequest, client.HTTPSConnection)

    def patch_httpx(self, httpx: Any) -> None:
        sync, asynchronous = httpx.HTTPTransport, httpx.AsyncHTTPTransport
        self.client_patches += [
            (sync, "handle_request", sync.handle_request),
            (asynchronous, "handle_async_request", asynchronous.handle_async_request),
        ]
        record = self.record_url
        original_sync, original_async = sync.handle_request, asynchronous.handle_async_request

        def handle_request(transport: Any, request: Any) -> Any:
            record(request.url.scheme, request.url.host, request.url.port, request.url.path)
            return original_sync(transport, request)

        async def handle_async_request(transport: Any, request: Any) -> Any:
            record(request.url.scheme, request.url.host, request.url.port, request.url.path)
            return await original_async(transport, request)

        sync.handle_request = handle_request
        asynchronous.handle_async_request = handle_async_request

    def wrap_putrequest(self, original: Any, https: type) -> Any:
        record = self.record_url

        def putrequest(connection: Any, method: str, url: str, *args: Any, **kw: Any) -> Any:
            scheme = "https" if isinstance(connection, https) else "http"
            if "://" in url:  # a request through a proxy names the whole URL
                scheme, _, rest = url.partition("://")
                url = "/" + rest.partition("/")[2]
            record(scheme, connection.host, connection.port, url)
            return original(connection, method, url, *args, **kw)

        return putrequest

    def record_url(self, scheme: str, host: str | None, port: int | None, path: str) -> None:
        effects = self.tracker.current
        if effects is None or not self.on or threading.current_thread().name == SENDER_THREAD:
            return
        try:
            path = path.split("?", 1)[0].split("#", 1)[0]
            default = {"http": 80, "https": 443}.get(scheme)
            shown_port = "" if port is None or port == default else f":{port}"
            shown_host = f"[{host}]" if host and ":" in host else host
            url = f"{scheme}://{shown_host}{shown_port}{path}"[:URL_LIMIT]
            effects.add_call("http", scheme, host, port if port is not None else default, url, None)
        except Exception as exc:
            self.fail(exc)

    def on_connect(self, sock: Any, address: Any) -> None:
        if self.tracker.current is None and not self.tracker.settings.block_network:
            return
        if threading.current_thread().name == SENDER_THREAD:
            return
        try:
            call = self.describe(sock, address)
        except Exception as exc:
            self.fail(exc)
            return
        kind, scheme, host, port, ip = call
        loopback = True if ip is None else is_loopback(ip)  # unix sockets are local
        # Database ports are never blocked: CI service containers are databases on non-loopback hosts.
        if self.tracker.settings.block_network and kind == "socket" and not loopback and self.tracker.current:
            raise NetworkBlocked(
                f"suitescope blocked a network connection to {host}:{port} (not loopback) because "
                "--suitescope-block-network is on; mock this call, or run without that option"
            )
        effects: Effects | None = self.tracker.current
        if effects is not None:
            try:
                effects.add_call(kind, scheme, host, port, None, loopback)
            except Exception as exc:
                self.fail(exc)

    def describe(self, sock: Any, address: Any) -> tuple[str, str, str | None, int | None, str | None]:
        """(kind, scheme, host, port, ip) of one connect."""
        family = getattr(sock, "family", None)
        if family == getattr(socket, "AF_UNIX", None) or isinstance(address, str | bytes):
            path = address.decode(errors="replace") if isinstance(address, bytes) else str(address)
            kind = "db" if any(hint in path for hint in DB_SOCKET_HINTS) else "unix"
            return kind, "unix", None, None, None
        if not isinstance(address, tuple) or len(address) < 2:
            return "socket", "unknown", None, None, None
        ip, port = str(address[0]), int(address[1])
        host = _lookups.get(port, ip)
        database = DB_PORTS.get(port)
        if database is not None:
            return "db", database, host, port, ip
        scheme = "udp" if getattr(sock, "type", None) == socket.SOCK_DGRAM else "tcp"
        return "socket", scheme, host, port, ip
