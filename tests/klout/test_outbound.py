"""The one outbound client: a local server is refused directly and through a redirect; bodies are
capped; the whole request has one deadline; the connection goes to the address checked."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import responses
from django.test import override_settings
from django.urls import reverse

from klout import outbound as outbound_module
from klout.outbound import AddressRefused, Outbound, OutboundError, is_public_address
from networks.models import NetworkAccount
from networks.providers import Credential, ProviderError
from networks.providers.bluesky import BlueskyProvider
from networks.providers.mastodon import MastodonProvider

Handler = Callable[[BaseHTTPRequestHandler], None]


class LocalServer:
    """A real HTTP server on 127.0.0.1 that records every request it is sent."""

    def __init__(self, handle: Handler) -> None:
        seen: list[dict[str, str]] = []
        self.seen = seen

        class _Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                seen.append({"path": self.path, "host": self.headers.get("Host", "")})
                handle(self)

            do_POST = do_GET

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def serve() -> Iterator[Callable[[Handler], LocalServer]]:
    servers: list[LocalServer] = []

    def start(handle: Handler) -> LocalServer:
        server = LocalServer(handle)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


def ok_json(request: BaseHTTPRequestHandler) -> None:
    body = b'{"ok": true}'
    request.send_response(200)
    request.send_header("Content-Type", "application/json")
    request.send_header("Content-Length", str(len(body)))
    request.end_headers()
    request.wfile.write(body)


def redirect_to(url: str, status: int = 307) -> Handler:
    def handle(request: BaseHTTPRequestHandler) -> None:
        request.send_response(status)
        request.send_header("Location", url)
        request.send_header("Content-Length", "0")
        request.end_headers()

    return handle


def test_a_local_server_is_refused_without_being_contacted(serve) -> None:
    target = serve(ok_json)
    with pytest.raises(AddressRefused) as caught:
        Outbound().get(f"http://127.0.0.1:{target.port}/")
    assert target.seen == []
    assert str(caught.value) == "that server is not on the public internet"


@override_settings(OUTBOUND_ALLOWED_PRIVATE_HOSTS=["localhost"])
def test_a_redirect_to_a_local_server_is_not_followed(serve) -> None:
    target = serve(ok_json)
    for status in (301, 302, 303, 307, 308):
        # localhost is allowed (the test's stand-in for a public host); 127.0.0.1 is not.
        hop = serve(redirect_to(f"http://127.0.0.1:{target.port}/secret", status))
        with pytest.raises(OutboundError, match="another address") as caught:
            Outbound().get(f"http://localhost:{hop.port}/start")
        assert hop.seen
        assert hop.seen[0]["path"] == "/start"
        assert not caught.value.transient
    assert target.seen == []


@override_settings(OUTBOUND_ALLOWED_PRIVATE_HOSTS=["localhost"])
def test_the_allow_list_names_hosts_not_the_addresses_they_resolve_to(serve) -> None:
    target = serve(ok_json)
    assert Outbound().get(f"http://localhost:{target.port}/").json() == {"ok": True}
    with pytest.raises(AddressRefused):
        Outbound().get(f"http://127.0.0.1:{target.port}/")
    assert len(target.seen) == 1


@override_settings(OUTBOUND_ALLOWED_PRIVATE_HOSTS=["api.pinned.example"])
def test_the_host_is_resolved_once_and_the_connection_goes_to_that_address(
    serve, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = serve(ok_json)
    lookups: list[str] = []

    def resolve(host: str, port: int) -> list[tuple[socket.AddressFamily, str]]:
        lookups.append(host)
        return [(socket.AF_INET, "127.0.0.1")]

    monkeypatch.setattr(outbound_module, "resolve_host", resolve)
    response = Outbound().get(f"http://api.pinned.example:{target.port}/x")
    assert response.status_code == 200
    assert lookups == ["api.pinned.example"]
    assert target.seen == [{"path": "/x", "host": f"api.pinned.example:{target.port}"}]


def test_a_public_name_that_resolves_to_an_internal_address_is_refused(
    serve, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = serve(ok_json)
    monkeypatch.setattr(
        outbound_module,
        "resolve_host",
        lambda host, port: [(socket.AF_INET, "93.184.216.34"), (socket.AF_INET, "127.0.0.1")],
    )
    with pytest.raises(AddressRefused):
        Outbound().get(f"http://rebind.example:{target.port}/")
    assert target.seen == []


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "224.0.0.1",
        "240.0.0.1",
        "255.255.255.255",
        "::1",
        "::",
        "fc00::1",
        "fe80::1",
        "ff02::1",
        "::ffff:127.0.0.1",
        "::ffff:169.254.169.254",
        "2002:7f00:1::",  # 6to4 around 127.0.0.1
        "64:ff9b::a00:1",
        "2001:db8::1",
    ],
)
def test_internal_and_reserved_addresses_are_not_public(address: str) -> None:
    assert not is_public_address(address)


@pytest.mark.parametrize("address", ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111"])
def test_global_addresses_are_public(address: str) -> None:
    assert is_public_address(address)


@override_settings(OUTBOUND_ALLOWED_PRIVATE_HOSTS=["localhost"])
def test_a_body_over_the_cap_is_refused_with_or_without_a_declared_length(serve) -> None:
    def big(declare: bool) -> Handler:
        def handle(request: BaseHTTPRequestHandler) -> None:
            request.send_response(200)
            if declare:
                request.send_header("Content-Length", str(200_000))
            request.end_headers()
            for _ in range(20):
                request.wfile.write(b"x" * 10_000)

        return handle

    for declare in (True, False):
        server = serve(big(declare))
        with pytest.raises(OutboundError, match="more data than we accept"):
            Outbound(max_bytes=50_000).get(f"http://localhost:{server.port}/")


@override_settings(OUTBOUND_ALLOWED_PRIVATE_HOSTS=["localhost"])
def test_a_slow_peer_cannot_outlast_the_total_deadline(serve) -> None:
    def drip(request: BaseHTTPRequestHandler) -> None:
        request.send_response(200)
        request.end_headers()
        try:
            for _ in range(40):  # 4 s in all, each byte well inside any per-read timeout
                request.wfile.write(b"x")
                request.wfile.flush()
                time.sleep(0.1)
        except OSError:
            pass

    server = serve(drip)
    started = time.monotonic()
    with pytest.raises(OutboundError, match="did not answer in time"):
        Outbound(deadline_seconds=1.0).get(f"http://localhost:{server.port}/")
    assert time.monotonic() - started < 2.5


def test_only_web_addresses_are_called() -> None:
    for url in ("file:///etc/passwd", "gopher://example.com/", "http:///nohost"):
        with pytest.raises(OutboundError, match="not a web address"):
            Outbound().get(url)


MASTODON_ACCOUNT = NetworkAccount(
    network="mastodon", external_id="https://mastodon.example/users/me", handle="me"
)


@responses.activate
def test_provider_sync_does_not_follow_a_redirect_to_the_metadata_address() -> None:
    responses.get(
        "https://mastodon.example/api/v1/notifications",
        status=302,
        headers={"Location": "http://169.254.169.254/latest/meta-data/"},
    )
    with pytest.raises(ProviderError) as caught:
        MastodonProvider().fetch_since(MASTODON_ACCOUNT, Credential("t"), "")
    assert len(responses.calls) == 1
    assert not caught.value.transient


@pytest.mark.parametrize("status", [401, 404, 418, 502])
@responses.activate
def test_provider_errors_do_not_echo_the_upstream_status(status: int) -> None:
    responses.get("https://mastodon.example/api/v1/notifications", status=status)
    with pytest.raises(ProviderError) as caught:
        MastodonProvider().fetch_since(MASTODON_ACCOUNT, Credential("t"), "")
    assert str(status) not in str(caught.value)


@override_settings(BLUESKY_PDS_URL="https://pds.example.org/")
@responses.activate
def test_bluesky_sync_uses_the_configured_pds() -> None:
    responses.get(
        "https://pds.example.org/xrpc/app.bsky.notification.listNotifications",
        json={"notifications": []},
    )
    account = NetworkAccount(network="bluesky", external_id="did:plc:me", handle="me")
    BlueskyProvider().fetch_since(account, Credential("t"), "")
    assert str(responses.calls[0].request.url).startswith("https://pds.example.org/xrpc/")


@pytest.mark.django_db
def test_the_mastodon_instance_field_refuses_an_internal_host_in_plain_words(
    client, serve, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reachable without signing in: a name that resolves inside our network is never called."""
    target = serve(ok_json)
    monkeypatch.setattr(
        outbound_module,
        "resolve_host",
        lambda host, port: [(socket.AF_INET, "127.0.0.1")],
    )
    response = client.post(reverse("mastodon_login"), {"instance": "metadata.internal.example"})
    assert response.status_code == 200
    assert b"not on the public internet" in response.content
    assert target.seen == []


def test_allauths_oauth_session_refuses_a_local_server_too(serve) -> None:
    from allauth.socialaccount.adapter import get_adapter

    target = serve(ok_json)
    with get_adapter().get_requests_session() as session, pytest.raises(AddressRefused):
        session.get(f"http://127.0.0.1:{target.port}/")
    assert target.seen == []
