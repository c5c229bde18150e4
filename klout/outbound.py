"""The one outbound HTTP client: every request this site makes to another server goes through it.

Untrusted by default (STYLE.md rule 14; healthchecks' `INTEGRATIONS_ALLOW_PRIVATE_IPS` idea):

- The host is resolved once, when the connection is made, and refused when any of its addresses is
  loopback, private, link-local, multicast, reserved, unspecified or otherwise not global (IPv4
  and IPv6, including IPv4-mapped IPv6). The socket then connects to that resolved address, so a
  second lookup (DNS rebinding) cannot send it elsewhere; TLS still checks the certificate
  against the host name.
- Redirects are never followed: a 3xx is an error. Nothing we call needs one, and every hop
  would be a new chance to reach an internal address.
- The body is read with a byte cap, and the whole request (connect, headers, body) has one total
  deadline, enforced by a watchdog that shuts the socket down; a slow peer cannot hold a worker.
- Proxies from the environment are ignored (`trust_env=False`), so the check cannot be bypassed.
- Errors are `OutboundError`s whose message is plain words, safe to show: no exception class
  names, no upstream status codes.

`OUTBOUND_ALLOWED_PRIVATE_HOSTS` (settings; env `KLOUT_OUTBOUND_ALLOWED_PRIVATE_HOSTS`, empty by
default) names host names that may resolve to private addresses, for a development server or a
test's local server. It matches the host as written in the URL, never an address it resolves to.

The pinning lives in the connection class below `requests.adapters.HTTPAdapter.send`, so tests
that mock at the adapter level with `responses` keep working and never resolve anything.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import threading
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.util import connection as urllib3_connection

DEFAULT_MAX_BYTES = 5 * 1024 * 1024
DEFAULT_DEADLINE_SECONDS = 20.0
CHUNK_BYTES = 64 * 1024


class OutboundError(Exception):
    """A request could not be made or finished. The message is plain words, safe to show;
    `transient` says whether trying again later can help."""

    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient


class AddressRefused(OutboundError):
    """The host is, or resolves to, an address we never call (internal, private, reserved)."""

    def __init__(self) -> None:
        super().__init__("that server is not on the public internet", transient=False)


def is_public_address(address: str) -> bool:
    """Whether an IP address is one we may connect to: global unicast only."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is not None and not is_public_address(str(embedded)):
            return False
    return not (
        ip.is_loopback
        or ip.is_private
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )


def resolve_host(host: str, port: int) -> list[tuple[socket.AddressFamily, str]]:
    """Every (family, address) the host name resolves to, in the resolver's order."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    seen: list[tuple[socket.AddressFamily, str]] = []
    for family, _type, _proto, _name, sockaddr in infos:
        entry = (family, str(sockaddr[0]))
        if entry not in seen:
            seen.append(entry)
    return seen


def _allowed_private_hosts() -> set[str]:
    hosts: Iterable[str] = getattr(settings, "OUTBOUND_ALLOWED_PRIVATE_HOSTS", ())
    return {h.strip().lower().rstrip(".") for h in hosts if h.strip()}


def checked_addresses(host: str, port: int) -> list[str]:
    """The addresses to connect to for `host`, resolved once; AddressRefused if any is not public.

    All addresses must pass, not just the first: otherwise a name with one public and one
    internal address would reach the internal one whenever the public one is down.
    """
    name = host.strip("[]").lower().rstrip(".")
    try:
        addresses = [address for _family, address in resolve_host(name, port)]
    except (socket.gaierror, UnicodeError):
        raise OutboundError("that server name could not be found", transient=True) from None
    if not addresses:
        raise OutboundError("that server name could not be found", transient=True)
    if name not in _allowed_private_hosts() and not all(map(is_public_address, addresses)):
        raise AddressRefused()
    return addresses


# The sockets opened by the request running on this thread, for the deadline watchdog.
_watched = threading.local()


class _PinnedConnectionMixin:
    """Resolve and check the host once, then connect to that very address."""

    _dns_host: str
    port: int
    timeout: Any
    source_address: Any
    socket_options: Any

    def _new_conn(self) -> socket.socket:
        addresses = checked_addresses(self._dns_host, self.port)
        last_error: OSError | None = None
        for address in addresses:
            try:
                sock = urllib3_connection.create_connection(
                    (address, self.port),
                    self.timeout,
                    source_address=self.source_address,
                    socket_options=self.socket_options,
                )
            except OSError as exc:
                last_error = exc
                continue
            sockets: list[socket.socket] | None = getattr(_watched, "sockets", None)
            if sockets is not None:
                sockets.append(sock)
            return sock
        raise OutboundError("that server could not be reached", transient=True) from last_error


class _PinnedHTTPConnection(_PinnedConnectionMixin, HTTPConnection):
    pass


class _PinnedHTTPSConnection(_PinnedConnectionMixin, HTTPSConnection):
    pass


class _PinnedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _PinnedHTTPConnection


class _PinnedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _PinnedHTTPSConnection


class PinnedAdapter(HTTPAdapter):
    """A requests adapter whose connections go only to checked, resolved-once addresses."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _PinnedHTTPPool,
            "https": _PinnedHTTPSPool,
        }

    def proxy_manager_for(self, *args: Any, **kwargs: Any) -> Any:
        raise OutboundError("requests through a proxy are not allowed", transient=False)


class Outbound:
    """A session for calls to other servers: checked addresses, no redirects, capped, bounded.

    `get`/`post` return a `requests.Response` whose body is already read (so `.json()`,
    `.text`, `.links` work) or raise `OutboundError`.
    """

    def __init__(
        self,
        *,
        max_bytes: int = DEFAULT_MAX_BYTES,
        deadline_seconds: float = DEFAULT_DEADLINE_SECONDS,
    ) -> None:
        self.max_bytes = max_bytes
        self.deadline_seconds = deadline_seconds
        self.session = requests.Session()
        self.session.trust_env = False
        adapter = PinnedAdapter(max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    def get(self, url: str, **kwargs: Any) -> requests.Response:
        """GET `url` (see `request`)."""
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> requests.Response:
        """POST to `url` (see `request`)."""
        return self.request("POST", url, **kwargs)

    def request(
        self,
        method: str,
        url: str,
        *,
        params: Any = None,
        data: Any = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        auth: tuple[str, str] | None = None,
    ) -> requests.Response:
        """Make one request and read its body, within the byte cap and the total deadline."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise OutboundError("that is not a web address we can call", transient=False)
        sockets: list[socket.socket] = []
        expired = threading.Event()

        def expire() -> None:
            expired.set()
            for sock in sockets:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

        watchdog = threading.Timer(self.deadline_seconds, expire)
        watchdog.daemon = True
        _watched.sockets = sockets
        watchdog.start()
        try:
            response = self.session.request(
                method,
                url,
                params=params,
                data=data,
                json=json,
                headers={"Connection": "close", **(headers or {})},
                auth=auth,
                allow_redirects=False,
                stream=True,
                timeout=(self.deadline_seconds, self.deadline_seconds),
            )
            try:
                body = self._read_capped(response)
            finally:
                response.close()
        except OutboundError:
            raise
        except requests.Timeout:
            raise OutboundError("that server did not answer in time", transient=True) from None
        except (requests.RequestException, OSError) as exc:
            if expired.is_set():
                raise OutboundError("that server did not answer in time", transient=True) from None
            raise OutboundError("that server could not be reached", transient=True) from exc
        finally:
            watchdog.cancel()
            _watched.sockets = None
        if expired.is_set():
            # A shut-down socket can look like a body that simply ended: never trust it.
            raise OutboundError("that server did not answer in time", transient=True)
        if response.is_redirect or 300 <= response.status_code < 400:
            raise OutboundError(
                "that server sent us to another address, which we do not follow",
                transient=False,
            )
        response._content = body
        response._content_consumed = True  # type: ignore[attr-defined]
        return response

    def _read_capped(self, response: requests.Response) -> bytes:
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise OutboundError("that server sent more data than we accept", transient=False)
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_content(CHUNK_BYTES):
            size += len(chunk)
            if size > self.max_bytes:
                raise OutboundError("that server sent more data than we accept", transient=False)
            chunks.append(chunk)
        return b"".join(chunks)


_shared = threading.local()


def outbound() -> Outbound:
    """This thread's default client (sessions are not shared between threads)."""
    client: Outbound | None = getattr(_shared, "client", None)
    if client is None:
        client = _shared.client = Outbound()
    return client
