"""Client identity: hashed API keys, X-Forwarded-For only from trusted proxies, right to left."""

from __future__ import annotations

import pytest

from app.rate_limiting.keys import ClientIdentity, hash_api_key, parse_trusted_proxies
from tests.support.asgi import http_scope

PROXIES = ["10.0.0.0/8", "192.168.1.1"]


def key_of(identity: ClientIdentity, peer: str | None, *headers: tuple[bytes, bytes]) -> str:
    client = (peer, 1234) if peer is not None else None
    return identity(http_scope(headers=list(headers), client=client))


def test_api_key_is_hashed_and_never_stored_raw() -> None:
    identity = ClientIdentity()
    key = key_of(identity, "203.0.113.1", (b"x-api-key", b"secret-key-123"))
    assert key == hash_api_key(b"secret-key-123")
    assert "secret" not in key
    assert len(key) == len("key:") + 32
    assert key_of(identity, "198.51.100.1", (b"X-API-KEY", b"secret-key-123")) == key


def test_huge_and_non_ascii_api_keys_hash_fine() -> None:
    identity = ClientIdentity()
    assert key_of(identity, "203.0.113.1", (b"x-api-key", b"\xff\xfe" * 50_000)).startswith("key:")


def test_an_empty_api_key_falls_back_to_the_address() -> None:
    assert key_of(ClientIdentity(), "203.0.113.1", (b"x-api-key", b"  ")) == "ip:203.0.113.1"


def test_an_unverified_api_key_falls_back_to_the_address() -> None:
    identity = ClientIdentity(api_key_verifier=lambda raw: raw == b"good")
    assert key_of(identity, "203.0.113.1", (b"x-api-key", b"good")) == hash_api_key(b"good")
    assert key_of(identity, "203.0.113.1", (b"x-api-key", b"made-up")) == "ip:203.0.113.1"


@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        # untrusted peer: its X-Forwarded-For is the client's own claim, ignored
        ("203.0.113.5", "1.2.3.4", "ip:203.0.113.5"),
        # trusted proxy: the rightmost entry it appended is the client
        ("10.0.0.2", "198.51.100.7", "ip:198.51.100.7"),
        # client-forged entries left of the real client are ignored
        ("10.0.0.2", "6.6.6.6, 198.51.100.7", "ip:198.51.100.7"),
        # a chain of trusted proxies is walked through
        ("10.0.0.2", "6.6.6.6, 198.51.100.7, 10.1.1.1, 192.168.1.1", "ip:198.51.100.7"),
        # every hop trusted: the leftmost one is as far as we can see
        ("10.0.0.2", "10.9.9.9, 10.1.1.1", "ip:10.9.9.9"),
        # garbage appended by a trusted hop: stop at that hop
        ("10.0.0.2", "198.51.100.7, not-an-ip", "ip:10.0.0.2"),
        ("10.0.0.2", "198.51.100.7, not-an-ip, 10.1.1.1", "ip:10.1.1.1"),
        # ports and brackets are tolerated
        ("10.0.0.2", "198.51.100.7:4711", "ip:198.51.100.7"),
        ("10.0.0.2", "[2001:db8::1]:443", "ip:2001:db8::/64"),
        # no header at all: the proxy itself
        ("10.0.0.2", None, "ip:10.0.0.2"),
        # IPv6 clients share their /64; IPv4-mapped addresses are IPv4
        ("2001:db8:1:2:3:4:5:6", None, "ip:2001:db8:1:2::/64"),
        ("::ffff:203.0.113.9", None, "ip:203.0.113.9"),
        # a peer that is no address (unix socket, test client) or none at all
        ("testclient", None, "ip:unknown"),
        (None, None, "ip:unknown"),
    ],
)
def test_forwarded_for_is_walked_from_the_right(
    peer: str | None, forwarded: str | None, expected: str
) -> None:
    identity = ClientIdentity(trusted_proxies=PROXIES)
    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded is not None else []
    assert key_of(identity, peer, *headers) == expected


def test_repeated_forwarded_headers_form_one_chain() -> None:
    identity = ClientIdentity(trusted_proxies=PROXIES)
    key = key_of(
        identity, "10.0.0.2",
        (b"x-forwarded-for", b"6.6.6.6"), (b"x-forwarded-for", b"198.51.100.7, 10.1.1.1"),
    )
    assert key == "ip:198.51.100.7"


def test_without_trusted_proxies_the_header_never_counts() -> None:
    assert key_of(ClientIdentity(), "10.0.0.2", (b"x-forwarded-for", b"1.2.3.4")) == "ip:10.0.0.2"


def test_bad_configuration_names_the_setting() -> None:
    with pytest.raises(ValueError, match="TRUSTED_PROXIES"):
        parse_trusted_proxies(["10.0.0.0/8", "proxy.internal"])
    with pytest.raises(ValueError, match="ipv6_prefix_length"):
        ClientIdentity(ipv6_prefix_length=0)


def test_a_small_address_cache_gives_the_same_answers_as_no_cache() -> None:
    """Addresses are classified once and cached (LRU); evictions must never change a key."""
    cached = ClientIdentity(trusted_proxies=PROXIES, cache_size=2)
    cases = [
        ("10.0.0.2", b"198.51.100.7"),
        ("203.0.113.5", b"1.2.3.4"),
        ("10.0.0.3", b"6.6.6.6, 10.1.1.1"),
        ("2001:db8:1:2:3:4:5:6", None),
        ("10.0.0.2", b"198.51.100.8, not-an-ip"),
        ("testclient", None),
    ]
    expected = [
        "ip:198.51.100.7", "ip:203.0.113.5", "ip:6.6.6.6", "ip:2001:db8:1:2::/64", "ip:10.0.0.2",
        "ip:unknown",
    ]
    for _ in range(3):  # later rounds hit and miss the tiny cache in a different order
        keys = [
            key_of(cached, peer, *([(b"x-forwarded-for", hops)] if hops is not None else []))
            for peer, hops in cases
        ]
        assert keys == expected


def test_the_cache_is_per_identity() -> None:
    """Whether an address is a trusted proxy depends on the identity's own configuration."""
    trusting = ClientIdentity(trusted_proxies=["10.0.0.0/8"])
    plain = ClientIdentity()
    forwarded = (b"x-forwarded-for", b"198.51.100.7")
    assert key_of(trusting, "10.0.0.2", forwarded) == "ip:198.51.100.7"
    assert key_of(plain, "10.0.0.2", forwarded) == "ip:10.0.0.2"
    assert key_of(ClientIdentity(ipv6_prefix_length=48), "2001:db8:1:2::1") == "ip:2001:db8:1::/48"


def test_the_address_cache_stays_bounded_and_answers_alike() -> None:
    identity = ClientIdentity(trusted_proxies=PROXIES, cache_size=2)
    peers = ["203.0.113.1", "203.0.113.2", "2001:db8:1:2::7", "203.0.113.1", "10.0.0.9"]
    keys = [key_of(identity, peer) for peer in peers]
    uncached = ClientIdentity(trusted_proxies=PROXIES, cache_size=1_000)
    assert keys == [key_of(uncached, peer) for peer in peers]
    assert keys[2] == "ip:2001:db8:1:2::/64"
    assert len(identity._known) <= 2
    assert identity.lookup("not an address") is None
    assert len(identity._known) <= 2
