"""The guard against webhooks aimed at private networks (SSRF).

A URL is refused when its host is, or resolves to, an address that is not public. The check runs
when an endpoint is saved and again on every new connection, which then goes to the very address
that was checked (so a DNS answer that changes in between, DNS rebinding, cannot slip through).
`WEBHOOK_ALLOW_PRIVATE` lists hosts or CIDRs let through anyway, for local testing.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import NewConnectionError
from urllib3.poolmanager import PoolManager

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Cloud metadata services; also covered by the link-local and unique-local rules, named for clarity.
METADATA_ADDRESSES = {
    ipaddress.ip_address("169.254.169.254"),
    ipaddress.ip_address("fd00:ec2::254"),
}


class UnsafeURL(ValueError):
    """The URL may not be called: wrong scheme, no host, or a non-public address."""


@dataclass(frozen=True)
class AllowList:
    hosts: frozenset[str] = frozenset()
    networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = field(default=())

    @classmethod
    def parse(cls, raw: str | None) -> AllowList:
        """`"127.0.0.1, 10.0.0.0/8, hooks.internal"`: CIDRs and addresses, or host names."""
        hosts, networks = set(), []
        for entry in (raw or "").split(","):
            entry = entry.strip().lower()
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
            except ValueError:
                hosts.add(entry.rstrip("."))
        return cls(frozenset(hosts), tuple(networks))

    def permits(self, address: IPAddress) -> bool:
        return any(address in network for network in self.networks)


# IPv6 forms that carry an IPv4 address the network may route to: NAT64 (RFC 6052, well-known and
# local-use prefixes) and the deprecated IPv4-compatible form (::a.b.c.d).
NAT64_NETWORKS = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
IPV4_COMPATIBLE = ipaddress.ip_network("::/96")


def embedded_ipv4(address: IPAddress) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address leads to: mapped, 6to4, Teredo (server and client),
    NAT64 and IPv4-compatible forms. `http://[2002:7f00:1::]/` is loopback by another name."""
    if not isinstance(address, ipaddress.IPv6Address):
        return []
    found = [a for a in (address.ipv4_mapped, address.sixtofour) if a is not None]
    found.extend(address.teredo or ())
    if any(address in network for network in (*NAT64_NETWORKS, IPV4_COMPATIBLE)):
        found.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return found


def is_forbidden(address: IPAddress) -> bool:
    """True for every address that is not plainly public, or that embeds one that is not."""
    if any(is_forbidden(inner) for inner in embedded_ipv4(address)):
        return True
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return (
        address in METADATA_ADDRESSES
        or address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_multicast
        or address.is_unspecified
        or address.is_reserved
        or (isinstance(address, ipaddress.IPv6Address) and address.is_site_local)
        or not address.is_global
    )


def resolve_checked(host: str, port: int, allow: AllowList) -> list[str]:
    """The addresses of `host`, all of them checked; raises UnsafeURL if any is forbidden."""
    name = host.strip("[]").rstrip(".").lower()
    try:
        infos = socket.getaddrinfo(name, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise UnsafeURL(f"{host} does not resolve") from error
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if name in allow.hosts:
        return addresses
    for text in addresses:
        address = ipaddress.ip_address(text.split("%", 1)[0])
        if is_forbidden(address) and not allow.permits(address):
            via = "" if text == name else f" ({host} resolves to it)"
            raise UnsafeURL(f"{address} is not a public address{via}")
    return addresses


def check_url(url: str, allow: AllowList) -> None:
    """Refuse a URL that is not http(s) to a host whose every address is public (or allowed)."""
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as error:
        raise UnsafeURL("is not a URL") from error
    if parts.scheme not in ("http", "https"):
        raise UnsafeURL("must be an http or https URL")
    if not parts.hostname:
        raise UnsafeURL("has no host")
    if parts.username or parts.password:
        raise UnsafeURL("must not carry credentials")
    resolve_checked(parts.hostname, port, allow)


class _GuardedConnection:
    """Mixed into urllib3's connections: resolve, check, connect to the checked address.
    The Host header and TLS SNI/certificate checks still use the name (self.host)."""

    allow: AllowList = AllowList()

    def _new_conn(self) -> socket.socket:
        addresses = resolve_checked(self.host, self.port, self.allow)
        last_error: OSError | None = None
        for address in addresses:
            try:
                sock = socket.create_connection((address, self.port), self.timeout)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                return sock
            except OSError as error:
                last_error = error
        raise NewConnectionError(self, f"Failed to establish a new connection: {last_error}")


def guarded_pool_manager(allow: AllowList, maxsize: int = 10) -> PoolManager:
    """A urllib3 PoolManager (keep-alive, thread-safe) whose every connection passes the guard."""
    http_conn = type("GuardedHTTPConnection", (_GuardedConnection, HTTPConnection), {"allow": allow})
    https_conn = type("GuardedHTTPSConnection", (_GuardedConnection, HTTPSConnection), {"allow": allow})
    manager = PoolManager(num_pools=100, maxsize=maxsize, block=False)
    manager.pool_classes_by_scheme = {
        "http": type("GuardedHTTPPool", (HTTPConnectionPool,), {"ConnectionCls": http_conn}),
        "https": type("GuardedHTTPSPool", (HTTPSConnectionPool,), {"ConnectionCls": https_conn}),
    }
    return manager
