"""Source-address allow-list for SIP (carrier trunks, the load balancer): who may talk to us at all."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class AccessError(ValueError):
    """A network in the allow-list cannot be read."""


def parse_networks(texts: Iterable[str]) -> tuple[Network, ...]:
    """CIDRs or single addresses ('192.0.2.0/24', '2001:db8::1') → networks."""
    networks: list[Network] = []
    for text in texts:
        try:
            networks.append(ipaddress.ip_network(text.strip(), strict=False))
        except ValueError:
            raise AccessError(f"bad network {text!r}: expected an address or CIDR, e.g. 192.0.2.0/24") from None
    return tuple(networks)


class AllowList:
    """Addresses inside any of the networks are permitted; an empty list permits everyone."""

    def __init__(self, networks: Iterable[Network] = ()) -> None:
        self.networks = tuple(networks)
        self._seen: dict[str, bool] = {}

    def permits(self, host: str) -> bool:
        if not self.networks:
            return True
        known = self._seen.get(host)
        if known is None:
            known = self._check(host)
            if len(self._seen) >= 4096:
                self._seen.clear()
            self._seen[host] = known
        return known

    def _check(self, host: str) -> bool:
        try:
            address = ipaddress.ip_address(host.split("%", 1)[0])
        except ValueError:
            return False
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        return any(address in network for network in self.networks)
