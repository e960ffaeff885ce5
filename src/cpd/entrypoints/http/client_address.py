"""The address a request came from, through the proxies the operator trusts (CPD_TRUSTED_PROXIES).

``Forwarded`` (RFC 7239) and ``X-Forwarded-For`` are anyone's to write, so they are read only
when the peer is a trusted proxy, and then from the right: each trusted hop vouches for the one
before it, and the first address not a trusted proxy is the client.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address
from typing import Any

from litestar import Request

Network = IPv4Network | IPv6Network
Address = IPv4Address | IPv6Address


def client_address(request: Request[Any, Any, Any], trusted: Sequence[Network]) -> str:
    peer = request.client.host if request.client else ""
    current = _parse(peer)
    if current is None:
        return peer or "unknown"
    forwarded = request.headers.getall("forwarded", [])
    hops = (
        list(_forwarded_for(forwarded))
        if forwarded
        else [
            part.strip()
            for line in request.headers.getall("x-forwarded-for", [])
            for part in line.split(",")
        ]
    )
    for hop in reversed(hops):
        if not _is_trusted(current, trusted):
            break
        previous = _parse(hop)
        if previous is None:  # "unknown", an obfuscated name, garbage: the chain ends here
            break
        current = previous
    return str(current)


def _is_trusted(address: Address, trusted: Sequence[Network]) -> bool:
    return any(address in network for network in trusted)


def _forwarded_for(lines: Iterable[str]) -> Iterable[str]:
    """The ``for=`` of each element (``for=192.0.2.1;proto=https, for="[2001:db8::1]:80"``)."""
    for line in lines:
        for element in line.split(","):
            value = ""
            for pair in element.split(";"):
                name, _, raw = pair.strip().partition("=")
                if name.lower() == "for":
                    value = raw.strip().strip('"')
            yield value


def _parse(value: str) -> Address | None:
    """An IP from ``1.2.3.4``, ``1.2.3.4:80``, ``2001:db8::1`` or ``[2001:db8::1]:80``."""
    value = value.strip()
    if value.startswith("["):
        value = value[1:].partition("]")[0]
    elif value.count(":") == 1:
        value = value.partition(":")[0]
    try:
        return ip_address(value)
    except ValueError:
        return None
