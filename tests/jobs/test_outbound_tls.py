"""The SSRF guard's pinned https connection (app.integrations.outbound): it connects to the checked
address but sends the host name as TLS SNI and verifies the certificate against that name (issue 15 item 4).

A local TLS server on 127.0.0.1 holds a certificate for ``hooks.tls.example`` made by ``openssl`` for the
test; the name resolves to 127.0.0.1 only through the test's resolver, and only this test's CA is trusted.
"""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from app.integrations import outbound

NAME = "hooks.tls.example"


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    if shutil.which("openssl") is None:
        pytest.fail("openssl is needed to make the test certificate")
    folder = tmp_path_factory.mktemp("tls")
    subprocess.run(  # noqa: S603 (fixed arguments)
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(folder / "key.pem"),  # noqa: S607
         "-out", str(folder / "cert.pem"), "-days", "2", "-subj", f"/CN={NAME}",
         "-addext", f"subjectAltName=DNS:{NAME}"], check=True, capture_output=True)
    return folder / "cert.pem", folder / "key.pem"


@pytest.fixture()
def tls_server(certificate):
    cert, key = certificate
    seen: dict = {"sni": [], "hosts": []}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's naming)
            seen["hosts"].append(self.headers["Host"])
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    context.sni_callback = lambda sock, name, ctx: seen["sni"].append(name)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], seen
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture()
def resolver(monkeypatch, certificate):
    """NAME and wrong.tls.example resolve to 127.0.0.1; only the test certificate is trusted."""
    real = socket.getaddrinfo

    def fake(host, port, *args, **kwargs):
        if host in (NAME, "wrong.tls.example"):
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    monkeypatch.setattr(ssl, "_create_default_https_context",
                        lambda: ssl.create_default_context(cafile=str(certificate[0])))


def _post(url: str):
    req = urllib.request.Request(url, data=b"{}", method="POST")  # noqa: S310
    return outbound.open_checked(req, timeout=5, allow_private=True)


def test_https_to_the_pinned_address_sends_the_name_as_sni_and_host(tls_server, resolver):
    port, seen = tls_server
    with _post(f"https://{NAME}:{port}/hook") as resp:
        assert resp.status == 204
    assert seen["sni"] == [NAME] and seen["hosts"] == [f"{NAME}:{port}"]


def test_the_certificate_is_checked_against_the_host_name_not_the_address(tls_server, resolver):
    port, seen = tls_server
    with pytest.raises(urllib.error.URLError) as exc:
        _post(f"https://wrong.tls.example:{port}/hook")
    assert isinstance(exc.value.reason, ssl.SSLCertVerificationError)
    assert seen["hosts"] == []


def test_a_private_destination_is_refused_before_any_connection(tls_server, resolver, monkeypatch):
    port, seen = tls_server
    req = urllib.request.Request(f"https://{NAME}:{port}/hook", data=b"{}", method="POST")  # noqa: S310
    with pytest.raises(outbound.DestinationRefused):
        outbound.open_checked(req, timeout=5, allow_private=False)
    assert seen["sni"] == [] and seen["hosts"] == []
