"""Who asked: the client's address behind trusted proxies, and whether it looks
like Meta's fetcher (for the log and the metrics only, never to allow or refuse).
Each answer is remembered, since the same few addresses ask again and again."""

from __future__ import annotations

import re
from ipaddress import ip_address

from origin.whatsapp.fetcher import is_meta_address, is_meta_user_agent
from storage.bounded import remember

TABLE_LIMIT = 10_000  # distinct addresses remembered
# The longest textual IP address, "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255", is
# 45 characters; this leaves room for an IPv6 zone. A longer X-Forwarded-For hop is
# no address: never trusted, never a Meta network, never remembered.
MAX_ADDRESS_CHARS = 64


class Clients:
    def __init__(self, trusted_proxies: tuple, meta_networks: tuple) -> None:
        self.trusted_proxies = trusted_proxies
        self.meta_networks = meta_networks
        self._meta_addresses: dict[str | None, bool] = {}
        self._trusted_addresses: dict[str, bool] = {}

    def address(
        self, peer: str | None, forwarded_for: str | None, forwarded: str | None
    ) -> str | None:
        """The direct peer, unless it is a trusted proxy: then the nearest address
        in X-Forwarded-For (or Forwarded: for=) that is not a trusted proxy."""
        if peer is None or not self.trusted(peer):
            return peer
        hops = []
        if forwarded_for:
            hops = [hop.strip() for hop in forwarded_for.split(",")]
        elif forwarded:
            hops = re.findall(r'for="?\[?([^\]";,]+)', forwarded, re.IGNORECASE)
        for hop in reversed(hops):
            if not self.trusted(hop):
                return hop
        return hops[0] if hops else peer

    def trusted(self, address: str) -> bool:
        if len(address) > MAX_ADDRESS_CHARS:
            return False
        known = self._trusted_addresses.get(address)
        if known is None:
            try:
                parsed = ip_address(address)
                known = any(parsed in network for network in self.trusted_proxies)
            except ValueError:
                known = False
            remember(self._trusted_addresses, address, known, TABLE_LIMIT)
        return known

    def looks_like_meta(self, user_agent: str, client: str | None) -> bool:
        if is_meta_user_agent(user_agent):
            return True
        if client is not None and len(client) > MAX_ADDRESS_CHARS:
            return False
        known = self._meta_addresses.get(client)
        if known is None:
            known = is_meta_address(client, self.meta_networks)
            remember(self._meta_addresses, client, known, TABLE_LIMIT)
        return known
