"""Outgoing HTTP to subscribers' URLs, safe against SSRF and against slow or huge answers.

A URL is resolved once; every address it resolves to must be a public one (not private,
loopback, link-local, cloud metadata, multicast or reserved), and the connection goes to the
address that was checked, so DNS cannot answer differently between check and connect
(rebinding). HTTPS still verifies the certificate against the host name. Redirects are never
followed, connect and read have timeouts, the whole exchange has a deadline, and at most
``max_bytes`` of the answer are read.

``allow_loopback`` (setting ``GRIDFEED_ALLOW_LOOPBACK_TARGETS``) admits 127.0.0.0/8 and ::1
for development and tests only; nothing else private is ever admitted.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import urllib3

Resolver = Callable[[str, int], list[str]]


class UnsafeTarget(ValueError):
    """A URL we will not send to, with the reason."""


@dataclass(frozen=True)
class Target:
    """A checked URL: where to connect (``ip``) and what to ask for."""

    scheme: str
    host: str
    port: int
    path: str
    ip: str

    @property
    def host_header(self) -> str:
        """The Host header: the name, with the port when it is not the scheme's default."""
        default = 443 if self.scheme == "https" else 80
        name = f"[{self.host}]" if ":" in self.host else self.host
        return name if self.port == default else f"{name}:{self.port}"


@dataclass(frozen=True)
class Answer:
    """What came back: status, the first bytes of the body, and how long it took."""

    status: int
    body: bytes
    latency_ms: int
    # The Retry-After header, as sent (rate limits, 429 and 503).
    retry_after: str | None = None


def system_resolver(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def check_url(url: str, allow_loopback: bool, resolve: Resolver | None = None) -> Target:
    """Parse, resolve and vet ``url``; raise UnsafeTarget naming the reason."""
    try:
        parts = urlsplit(url)
        parts.hostname  # noqa: B018 - a malformed [IPv6] host raises only when it is read
    except ValueError as exc:  # "Invalid IPv6 URL" and friends
        raise UnsafeTarget(f"not a URL ({exc})") from None
    if parts.scheme not in {"http", "https"}:
        raise UnsafeTarget("the URL must start with http:// or https://")
    if not parts.hostname:
        raise UnsafeTarget("the URL has no host")
    if parts.username or parts.password:
        raise UnsafeTarget("the URL must not carry a user name or password")
    try:
        port = parts.port
    except ValueError as exc:
        raise UnsafeTarget("the URL's port is not a number from 1 to 65535") from exc
    if port is None:
        port = 443 if parts.scheme == "https" else 80
    elif not 1 <= port <= 65535:  # port 0 is "any port" to a socket API, never a target
        raise UnsafeTarget("the URL's port is not a number from 1 to 65535")
    host = parts.hostname
    try:
        addresses = (resolve or system_resolver)(host, port)
    except (OSError, UnicodeError) as exc:
        raise UnsafeTarget(f"the host {host!r} does not resolve") from exc
    if not addresses:
        raise UnsafeTarget(f"the host {host!r} does not resolve")
    for address in addresses:
        problem = address_problem(address, allow_loopback)
        if problem:
            raise UnsafeTarget(f"the host {host!r} resolves to {address}, {problem}")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(parts.scheme, host, port, path, addresses[0])


def check_configured(url: str, config: Mapping[str, Any]) -> Target:
    """``check_url`` with the app's settings (loopback allowance, resolver for tests)."""
    return check_url(url, config["ALLOW_LOOPBACK_TARGETS"], config["DNS_RESOLVER"])


NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052 well-known prefix
IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")  # deprecated, still routed by some stacks


def embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries and reaches through a translator or tunnel:
    IPv4-mapped, 6to4 (2002::/16), NAT64 (64:ff9b::/96), Teredo (server and client) and
    IPv4-compatible (::a.b.c.d)."""
    if ip.ipv4_mapped:
        return [ip.ipv4_mapped]
    if ip.sixtofour:
        return [ip.sixtofour]
    if ip.teredo:
        return list(ip.teredo)
    if ip in NAT64 or (ip in IPV4_COMPATIBLE and int(ip) > 1):  # not :: nor ::1
        return [ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)]
    return []


def address_problem(address: str, allow_loopback: bool) -> str | None:
    """Why we will not connect to ``address``, or None if it is a public address. An IPv6
    address that wraps IPv4 addresses is judged by the addresses it wraps."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and (wrapped := embedded_ipv4(ip)):
        problems = [_ip_problem(inner, allow_loopback) for inner in wrapped]
        found = next((p for p in problems if p), None)
        return f"which wraps {', '.join(map(str, wrapped))}: {found}" if found else None
    return _ip_problem(ip, allow_loopback)


def _ip_problem(
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address, allow_loopback: bool
) -> str | None:
    if ip.is_loopback:
        return None if allow_loopback else "a loopback address"
    if ip.is_link_local:
        return "a link-local address (this includes cloud metadata services)"
    if ip.is_private or ip.is_reserved or ip.is_unspecified or ip.is_multicast:
        return "a private or reserved address"
    if not ip.is_global:
        return "not a public address"
    return None


def send(
    target: Target,
    method: str,
    headers: Mapping[str, str],
    body: bytes | None,
    connect_timeout: float,
    read_timeout: float,
    max_bytes: int,
) -> Answer:
    """One HTTP exchange with ``target``; raise OSError-like urllib3 errors on failure."""
    started = time.monotonic()
    deadline = started + connect_timeout + read_timeout
    timeout = urllib3.Timeout(connect=connect_timeout, read=read_timeout)
    if target.scheme == "https":
        pool: urllib3.HTTPConnectionPool = urllib3.HTTPSConnectionPool(
            target.ip,
            target.port,
            server_hostname=target.host,
            assert_hostname=target.host,
            cert_reqs="CERT_REQUIRED",
            timeout=timeout,
            retries=False,
        )
    else:
        pool = urllib3.HTTPConnectionPool(target.ip, target.port, timeout=timeout, retries=False)
    try:
        response = pool.urlopen(
            method,
            target.path,
            body=body,
            headers={**headers, "Host": target.host_header},
            redirect=False,
            retries=False,
            preload_content=False,
            assert_same_host=False,
        )
        try:
            received = bytearray()
            while len(received) < max_bytes:
                if time.monotonic() > deadline:
                    raise TimeoutError("the answer took longer than the delivery deadline")
                chunk = response.read(min(8192, max_bytes - len(received)))
                if not chunk:
                    break
                received.extend(chunk)
        finally:
            response.release_conn()
            response.close()
    finally:
        pool.close()
    latency = int((time.monotonic() - started) * 1000)
    return Answer(response.status, bytes(received), latency, response.headers.get("Retry-After"))
