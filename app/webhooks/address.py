"""Server-side request forgery guard: which addresses a webhook may be sent to.

The host of a URL is resolved once and every address is checked; the request then goes to
a checked address (see ``sender.py``), so a DNS answer cannot change between check and
connect. Refused unless ``webhook_allow_private``: loopback, private, link-local (cloud
metadata 169.254.169.254 included), multicast, shared (CGNAT), reserved and unspecified
addresses, and IPv4 addresses embedded in IPv6 ones.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_SHARED = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT; Alibaba metadata
MAX_URL_LENGTH = 2048


class AddressRefused(ValueError):
    """The URL is unusable or points at a refused address (the message says which)."""


@dataclass(frozen=True, slots=True)
class Target:
    scheme: str
    host: str
    port: int
    addresses: tuple[IpAddress, ...]


def is_public(address: IpAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address.teredo is not None:
            embedded = address.teredo[1]
        if embedded is not None and not is_public(embedded):
            return False
    return not (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or address in _SHARED
    )


def parse_url(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of an http(s) URL; ``AddressRefused`` otherwise."""
    if len(url) > MAX_URL_LENGTH:
        raise AddressRefused(f"url is longer than {MAX_URL_LENGTH} characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise AddressRefused(f"url is not valid: {exc}") from None
    if parts.scheme not in ("http", "https"):
        raise AddressRefused("url must use http or https")
    if not parts.hostname:
        raise AddressRefused("url has no host")
    if parts.username is not None or parts.password is not None:
        raise AddressRefused("url must not carry credentials")
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80)


async def resolve(url: str, *, allow_private: bool) -> Target:
    """Resolve the URL's host and check every address it has."""
    scheme, host, port = parse_url(url)
    try:
        addresses: tuple[IpAddress, ...] = (ipaddress.ip_address(host),)
    except ValueError:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(
                host, port, type=socket.SOCK_STREAM
            )
        except OSError as exc:
            raise AddressRefused(f"host {host!r} does not resolve: {exc.strerror}") from None
        found = dict.fromkeys(ipaddress.ip_address(info[4][0]) for info in infos)
        addresses = tuple(found)
    if not addresses:
        raise AddressRefused(f"host {host!r} has no address")
    if not allow_private:
        for address in addresses:
            if not is_public(address):
                raise AddressRefused(
                    f"host {host!r} resolves to {address}, a loopback, private, link-local"
                    " or otherwise non-public address"
                )
    return Target(scheme=scheme, host=host, port=port, addresses=addresses)
