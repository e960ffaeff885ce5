"""Which address a request counts as (CPD_TRUSTED_PROXIES): headers believed from proxies only."""

from __future__ import annotations

from ipaddress import ip_network
from typing import Any

import pytest
from litestar import Request

from cpd.entrypoints.http.client_address import client_address
from cpd.settings import Settings, SettingsError

PROXIES = (ip_network("10.0.0.0/8"), ip_network("2001:db8:ffff::/48"))


def request_from(peer: str, *headers: tuple[str, str]) -> Request[Any, Any, Any]:
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/api/v1/auth/login",
        "headers": [(name.encode(), value.encode()) for name, value in headers],
        "client": (peer, 50000),
        "query_string": b"",
    }
    return Request(scope)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("peer", "headers", "client"),
    [
        ("203.0.113.5", [("x-forwarded-for", "198.51.100.1")], "203.0.113.5"),  # not a proxy
        ("10.0.0.2", [("x-forwarded-for", "198.51.100.1")], "198.51.100.1"),
        ("10.0.0.2", [("x-forwarded-for", "6.6.6.6, 198.51.100.1, 10.0.0.9")], "198.51.100.1"),
        (
            "10.0.0.2",
            [("x-forwarded-for", "6.6.6.6"), ("x-forwarded-for", "198.51.100.1")],
            "198.51.100.1",
        ),
        ("10.0.0.2", [("x-forwarded-for", "10.1.1.1")], "10.1.1.1"),  # proxies all the way
        ("10.0.0.2", [("x-forwarded-for", "garbage, 10.0.0.7")], "10.0.0.7"),
        ("10.0.0.2", [], "10.0.0.2"),
        (
            "10.0.0.2",
            [("forwarded", 'for=6.6.6.6, for="198.51.100.1:4711";proto=https')],
            "198.51.100.1",
        ),
        ("10.0.0.2", [("forwarded", 'for="[2001:db8::7]:443"')], "2001:db8::7"),
        ("10.0.0.2", [("forwarded", "for=unknown")], "10.0.0.2"),
        # Forwarded wins over X-Forwarded-For when both are sent
        (
            "10.0.0.2",
            [("forwarded", "for=198.51.100.1"), ("x-forwarded-for", "6.6.6.6")],
            "198.51.100.1",
        ),
        ("2001:db8:ffff::1", [("x-forwarded-for", "2001:db8::9")], "2001:db8::9"),
        ("testclient", [("x-forwarded-for", "198.51.100.1")], "testclient"),
    ],
)
def test_forwarded_addresses_are_believed_from_trusted_proxies_only(
    peer: str, headers: list[tuple[str, str]], client: str
) -> None:
    assert client_address(request_from(peer, *headers), PROXIES) == client


def test_without_trusted_proxies_the_headers_are_ignored() -> None:
    request = request_from("10.0.0.2", ("x-forwarded-for", "198.51.100.1"))
    assert client_address(request, ()) == "10.0.0.2"


def test_the_setting_takes_addresses_and_networks_and_refuses_garbage() -> None:
    settings = Settings.from_mapping({"trusted_proxies": "10.0.0.0/8, 192.0.2.7,2001:db8::/32"})
    assert [str(n) for n in settings.trusted_proxy_networks] == [
        "10.0.0.0/8",
        "192.0.2.7/32",
        "2001:db8::/32",
    ]
    assert Settings.from_mapping({}).trusted_proxy_networks == ()
    with pytest.raises(SettingsError, match="CPD_TRUSTED_PROXIES"):
        Settings.from_mapping({"trusted_proxies": "10.0.0.0/8, proxy.internal"})
