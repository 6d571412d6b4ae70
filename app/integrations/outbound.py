"""Outbound HTTP to addresses a region configures (webhooks, the SP4N-LAPOR! bridge), safe from
server-side request forgery.

The host name is resolved once, every address it resolves to must be public (``is_global``, after
unwrapping IPv4-mapped, 6to4, Teredo and NAT64 addresses), and the connection goes to that checked
address: the HTTP client never resolves the name again, so a DNS answer that changes between the check
and the connection (DNS rebinding) cannot point the request at loopback, the cloud metadata service or
the private network. ``Host`` stays the URL's host, and for https the TLS server name (SNI) and the
certificate check use the host name, not the address. Environment proxies are not used: a proxy would
resolve the name itself.

A deployment that must reach private receivers (development, tests, a receiver on the same network)
says so explicitly with ``allow_private`` (``WEBHOOK_ALLOW_PRIVATE_HOSTS``, ``SP4N_ALLOW_PRIVATE_HOSTS``).
"""

from __future__ import annotations

import functools
import http.client
import ipaddress
import socket
import urllib.parse
import urllib.request

_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class DestinationRefused(OSError):
    """The URL's host resolves to an address the app must not call (or does not resolve)."""


def _embedded(addr: ipaddress.IPv4Address | ipaddress.IPv6Address) -> list:
    """The address and every IPv4 address it carries (IPv4-mapped, 6to4, Teredo, NAT64)."""
    found = [addr]
    if isinstance(addr, ipaddress.IPv6Address):
        if addr.ipv4_mapped is not None:
            found.append(addr.ipv4_mapped)
        if addr.sixtofour is not None:
            found.append(addr.sixtofour)
        if addr.teredo is not None:
            found.extend(addr.teredo)
        if addr in _NAT64:
            found.append(ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF))
    return found


def is_public_address(addr: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Globally routable unicast: not loopback, private, link-local (metadata), shared CGNAT 100.64/10,
    unspecified, reserved, documentation or multicast, nor an IPv6 form wrapping one of those."""
    return all(a.is_global and not a.is_multicast for a in _embedded(addr))


def resolve(host: str, port: int, allow_private: bool = False) -> str:
    """The one address to connect to for ``host``; every address the name resolves to is checked.

    :raises DestinationRefused: when the name does not resolve or any of its addresses is not public.
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise DestinationRefused(f"destination does not resolve: {type(exc).__name__}") from exc
    addresses = [info[4][0] for info in infos]
    if not addresses:
        raise DestinationRefused("destination does not resolve")
    if not allow_private:
        for address in addresses:
            if not is_public_address(ipaddress.ip_address(address.split("%")[0])):
                raise DestinationRefused("destination address not allowed")
    return addresses[0]


def check_url(url: str, allow_private: bool = False) -> str:
    """Resolve and check a URL's host (as :func:`resolve`); returns the address."""
    parts = urllib.parse.urlsplit(url)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise DestinationRefused("bad port") from exc
    return resolve(parts.hostname or "", port, allow_private)


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to a checked address; ``self.host`` (the name) stays for the Host header."""

    def __init__(self, *args, address: str, **kwargs):
        super().__init__(*args, **kwargs)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """As above over TLS: SNI and certificate verification use the host name."""

    def __init__(self, *args, address: str, **kwargs):
        super().__init__(*args, **kwargs)
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


class _PinnedHTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, address: str):
        super().__init__()
        self.address = address

    def http_open(self, req):
        return self.do_open(functools.partial(_PinnedHTTPConnection, address=self.address), req)


class _PinnedHTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, address: str):
        super().__init__()
        self.address = address

    def https_open(self, req):
        return self.do_open(functools.partial(_PinnedHTTPSConnection, address=self.address), req)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # a redirect is an answer; following it would skip the check
        return None


def open_checked(req: urllib.request.Request, timeout: float, allow_private: bool = False):
    """Send ``req`` to its checked address (see the module docstring); redirects are not followed.

    :raises DestinationRefused: for a refused destination; otherwise as ``urllib`` raises.
    """
    if req.type not in ("http", "https"):
        raise DestinationRefused("only http(s) destinations")
    address = check_url(req.full_url, allow_private)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect,
                                         _PinnedHTTPHandler(address), _PinnedHTTPSHandler(address))
    return opener.open(req, timeout=timeout)
