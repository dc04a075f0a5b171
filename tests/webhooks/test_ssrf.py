"""The SSRF guard alone: address rules, the allow-list, connecting to the checked address."""

from __future__ import annotations

import ipaddress
import socket

import pytest

from service.webhooks.ssrf import (
    AllowList,
    UnsafeURL,
    check_url,
    guarded_pool_manager,
    is_forbidden,
)


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
        "::1",
        "::",
        "fe80::1",
        "fc00::1",
        "fd00:ec2::254",
        "ff02::1",
        "::ffff:10.0.0.1",
    ],
)
def test_non_public_addresses_are_forbidden(address):
    assert is_forbidden(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["93.184.215.14", "1.1.1.1", "2606:4700:4700::1111"])
def test_public_addresses_pass(address):
    assert not is_forbidden(ipaddress.ip_address(address))


# IPv6 spellings of forbidden IPv4 addresses: each leads where its IPv4 address does.
EMBEDDED_IPV4 = {
    "6to4 of loopback": "2002:7f00:1::",
    "6to4 of 10/8": "2002:a00:1::1",
    "6to4 of 192.168/16": "2002:c0a8:101::",
    "6to4 of the metadata service": "2002:a9fe:a9fe::",
    "IPv4-mapped loopback": "::ffff:127.0.0.1",
    "IPv4-mapped metadata service": "::ffff:169.254.169.254",
    "IPv4-compatible loopback": "::127.0.0.1",
    "IPv4-compatible 10/8": "::10.0.0.1",
    "NAT64 of loopback": "64:ff9b::7f00:1",
    "NAT64 of 192.168/16": "64:ff9b::192.168.1.1",
    "local-use NAT64 of 10/8": "64:ff9b:1::a00:1",
    "Teredo to a loopback client": "2001:0:4136:e378:8000:63bf:80ff:fffe",
    "Teredo through a private server": "2001:0:a00:1::5db8:d70e",
}


@pytest.mark.parametrize("address", EMBEDDED_IPV4.values(), ids=EMBEDDED_IPV4.keys())
def test_ipv6_forms_of_forbidden_ipv4_are_forbidden(address):
    assert is_forbidden(ipaddress.ip_address(address))
    with pytest.raises(UnsafeURL, match="not a public address"):
        check_url(f"http://[{address}]/hook", AllowList())


def test_6to4_of_a_public_address_passes():
    assert not is_forbidden(ipaddress.ip_address("2002:5db8:d70e::1"))


def test_allowing_loopback_does_not_allow_its_6to4_form():
    with pytest.raises(UnsafeURL):
        check_url("http://[2002:7f00:1::]/hook", AllowList.parse("127.0.0.1"))


def test_the_allow_list_takes_cidrs_and_host_names():
    allow = AllowList.parse(" 10.0.0.0/8, 127.0.0.1 ,hooks.internal ")
    check_url("http://10.9.9.9/x", allow)
    check_url("http://127.0.0.1:8000/x", allow)
    with pytest.raises(UnsafeURL):
        check_url("http://192.168.0.1/x", allow)


def _fake_dns(monkeypatch, answers: dict[str, str]):
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host in answers:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answers[host], port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def test_a_name_resolving_to_a_private_address_is_refused(monkeypatch):
    _fake_dns(monkeypatch, {"rebind.example": "10.0.0.7"})
    with pytest.raises(UnsafeURL, match="10.0.0.7"):
        check_url("https://rebind.example/hook", AllowList())


def test_connections_go_to_the_checked_address_with_the_name_as_host(monkeypatch, receiver):
    port = receiver.url.split(":")[2].split("/")[0]
    _fake_dns(monkeypatch, {"hooks.example": "127.0.0.1"})
    pool = guarded_pool_manager(AllowList.parse("127.0.0.1"))
    response = pool.request("POST", f"http://hooks.example:{port}/hooks", body=b"{}", retries=False)
    assert response.status == 204
    assert receiver.requests[0].headers["host"] == f"hooks.example:{port}"

    # The name now answers with a forbidden address (DNS rebinding): the new connection is refused.
    _fake_dns(monkeypatch, {"hooks.example": "169.254.169.254"})
    pool.clear()
    with pytest.raises(UnsafeURL):
        pool.request("POST", f"http://hooks.example:{port}/hooks", body=b"{}", retries=False)
