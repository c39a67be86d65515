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
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Callable, Iterable, Sequence
from typing import Any

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_MAX_FORWARDED_HOPS = 32  # a longer chain is noise; stop walking there


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


class ClientIdentity:
    """ASGI scope -> rate-limit key. Use as `key_func` of `RateLimitMiddleware`."""

    def __init__(
        self,
        *,
        trusted_proxies: Sequence[str] = (),
        api_key_header: str | None = "X-API-Key",
        api_key_verifier: Callable[[bytes], bool] | None = None,
        ipv6_prefix_length: int = 64,
    ) -> None:
        if not 1 <= ipv6_prefix_length <= 128:
            raise ValueError(f"ipv6_prefix_length must be in 1..128, got {ipv6_prefix_length}")
        self.trusted = parse_trusted_proxies(trusted_proxies)
        self.api_key_header = api_key_header.lower().encode("latin-1") if api_key_header else None
        self.api_key_verifier = api_key_verifier
        self.ipv6_prefix_length = ipv6_prefix_length

    def __call__(self, scope: dict[str, Any]) -> str:
        headers: list[tuple[bytes, bytes]] = scope.get("headers") or []
        if self.api_key_header is not None:
            for name, value in headers:
                if name.lower() == self.api_key_header and value.strip():
                    if self.api_key_verifier is None or self.api_key_verifier(value.strip()):
                        return hash_api_key(value.strip())
                    break
        return "ip:" + self._ip_key(self.client_ip(scope, headers))

    def is_trusted(self, address: IPAddress) -> bool:
        return any(address in network for network in self.trusted)

    def client_ip(
        self, scope: dict[str, Any], headers: list[tuple[bytes, bytes]] | None = None
    ) -> IPAddress | None:
        """The client address per the rules above (None when the peer is unknown)."""
        client = scope.get("client")
        peer = _parse_ip(str(client[0])) if client else None
        if peer is None or not self.trusted or not self.is_trusted(peer):
            return peer
        hops: list[str] = []
        for name, value in headers if headers is not None else scope.get("headers") or []:
            if name.lower() == b"x-forwarded-for":
                hops.extend(value.decode("latin-1").split(","))
        current = peer
        for hop in reversed(hops[-_MAX_FORWARDED_HOPS:]):
            address = _parse_ip(hop)
            if address is None:
                return current  # garbage from a trusted hop: stop at that hop
            current = address
            if not self.is_trusted(address):
                return address
        return current

    def _ip_key(self, address: IPAddress | None) -> str:
        if address is None:
            return "unknown"
        if isinstance(address, ipaddress.IPv6Address):
            network = ipaddress.IPv6Network((address, self.ipv6_prefix_length), strict=False)
            return str(network)
        return str(address)
