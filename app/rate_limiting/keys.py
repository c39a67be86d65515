"""Who is asking: the rate-limit key of a request, from its API key or its client address.

* An API key header (``X-API-Key`` by default) wins. The key is hashed (SHA-256, 128 bits kept):
  raw keys never reach Redis, logs or metrics. Any bytes are accepted and hashed as bytes.
  Anyone can invent API keys, so an unverified key gives an attacker fresh buckets; pass
  `api_key_verifier` to fall back to the client address for keys that do not verify.
* Otherwise the client IP. ``X-Forwarded-For`` counts only when the TCP peer is a trusted proxy
  (TRUSTED_PROXIES, CIDRs), and the chain is walked from the right: each hop appended by a
  trusted proxy is believed until the first address that is not a trusted proxy — that is the
  client. Entries further left were written by the client and are ignored; an entry that is not an
  IP address stops the walk at the last trusted hop. (Trusting the leftmost entry lets any client
  pick its own bucket.)
* IPv6 clients are keyed by their /64 (configurable): one host usually controls a whole /64.

Parsing an address with `ipaddress` costs a few microseconds, more than the rest of a rate-limit
check, and a server sees the same few peers again and again (its proxies, clients on keep-alive).
So what an address text means (its key, whether it is a trusted proxy) is computed once and kept
in a bounded cache per `ClientIdentity` (a plain dict, oldest entry out first: a dict lookup is
cheaper per request than an `lru_cache` call); a request from a peer that is not a trusted proxy
costs one dict lookup, and X-Forwarded-For is not even looked at.
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, NamedTuple

from app.http_headers import first_header

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_MAX_FORWARDED_HOPS = 32  # a longer chain is noise; stop walking there
ADDRESS_CACHE_SIZE = 4096  # distinct address texts remembered (oldest out first); ~0.5 MB
UNKNOWN_CLIENT_KEY = "ip:unknown"
_FORWARDED_FOR = b"x-forwarded-for"


def hash_api_key(raw: bytes | str) -> str:
    """The stored identity of an API key: ``key:`` + 32 hex chars of its SHA-256."""
    data = raw.encode("utf-8", "surrogateescape") if isinstance(raw, str) else raw
    return "key:" + hashlib.sha256(data).hexdigest()[:32]


def parse_trusted_proxies(entries: Iterable[str]) -> tuple[IPNetwork, ...]:
    """CIDRs (or single addresses) of proxies whose X-Forwarded-For we believe."""
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError as error:
            raise ValueError(f"TRUSTED_PROXIES: {entry!r} is not an IP network ({error})") from None
    return tuple(networks)


def _parse_ip(text: str) -> IPAddress | None:
    """An address from "1.2.3.4", "1.2.3.4:80", "::1" or "[::1]:80"; None for anything else."""
    text = text.strip()
    if text.startswith("[") and "]" in text:
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


class KnownAddress(NamedTuple):
    """What an address text means to the limiter."""

    key: str  # the rate-limit key: "ip:203.0.113.9", "ip:2001:db8:1:2::/64"
    trusted: bool  # a trusted proxy: the X-Forwarded-For entry it appended is believed


_UNSEEN = KnownAddress("", False)  # "not cached yet" (compared by identity)


class ClientIdentity:
    """ASGI scope -> rate-limit key. Use as `key_func` of `RateLimitMiddleware`."""

    def __init__(
        self,
        *,
        trusted_proxies: Sequence[str] = (),
        api_key_header: str | None = "X-API-Key",
        api_key_verifier: Callable[[bytes], bool] | None = None,
        ipv6_prefix_length: int = 64,
        cache_size: int = ADDRESS_CACHE_SIZE,
    ) -> None:
        if not 1 <= ipv6_prefix_length <= 128:
            raise ValueError(f"ipv6_prefix_length must be in 1..128, got {ipv6_prefix_length}")
        self.trusted = parse_trusted_proxies(trusted_proxies)
        self.api_key_header = api_key_header.lower().encode("latin-1") if api_key_header else None
        self._api_key_names = (self.api_key_header,) if self.api_key_header else ()
        self.api_key_verifier = api_key_verifier
        self.ipv6_prefix_length = ipv6_prefix_length
        # Per instance (the answer depends on trusted proxies and the IPv6 prefix length).
        self.cache_size = cache_size
        self._known: dict[str, KnownAddress | None] = {}

    def __call__(self, scope: Mapping[str, Any]) -> str:
        headers: Sequence[tuple[bytes, bytes]] = scope.get("headers") or ()
        if self._api_key_names:
            value = first_header(headers, self._api_key_names)
            if value is not None:  # the first such header counts; blank or unverified: by address
                raw = value.strip()
                if raw and (self.api_key_verifier is None or self.api_key_verifier(raw)):
                    return hash_api_key(raw)
        client = scope.get("client")
        if client:
            text = str(client[0])  # a str from any conforming server: returned as it is
            peer = self._known.get(text, _UNSEEN)
            if peer is _UNSEEN:
                peer = self.lookup(text)
        else:
            peer = None
        if peer is None:
            return UNKNOWN_CLIENT_KEY
        if not peer.trusted:
            return peer.key  # the common case: X-Forwarded-For is never read
        return self._forwarded_client(peer, headers)

    def _forwarded_client(
        self, peer: KnownAddress, headers: Sequence[tuple[bytes, bytes]]
    ) -> str:
        """Walk X-Forwarded-For from the right, believing each hop a trusted proxy appended."""
        hops: list[str] = []
        for name, value in headers:
            if len(name) == len(_FORWARDED_FOR) and name.lower() == _FORWARDED_FOR:
                hops.extend(value.decode("latin-1").split(","))
        current = peer
        for hop in reversed(hops[-_MAX_FORWARDED_HOPS:]):
            address = self.lookup(hop.strip())
            if address is None:
                return current.key  # garbage from a trusted hop: stop at that hop
            current = address
            if not address.trusted:
                return address.key
        return current.key

    def lookup(self, text: str) -> KnownAddress | None:
        """`classify`, remembered for the last `cache_size` distinct texts (oldest out first)."""
        known = self._known
        if text in known:
            return known[text]
        if len(known) >= self.cache_size:
            del known[next(iter(known))]
        answer = known[text] = self.classify(text)
        return answer

    def is_trusted(self, address: IPAddress) -> bool:
        return any(address in network for network in self.trusted)

    def classify(self, text: str) -> KnownAddress | None:
        """The key of an address text and whether it is a trusted proxy; None if no address.

        Uncached: `lookup` is the cached front of it."""
        address = _parse_ip(text)
        if address is None:
            return None
        return KnownAddress("ip:" + self._ip_key(address), self.is_trusted(address))

    def _ip_key(self, address: IPAddress) -> str:
        if isinstance(address, ipaddress.IPv6Address):
            network = ipaddress.IPv6Network((address, self.ipv6_prefix_length), strict=False)
            return str(network)
        return str(address)
