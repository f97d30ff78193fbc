"""Does a request look like Meta's media fetcher? The one rule, for the access log
and the metrics only: it never allows or refuses anything.

Meta does not document its fetcher. Operators' public access logs show the user
agent ``facebookexternalua``, and Meta's
traffic comes from its own network, AS32934. A request counts when either
matches: the user agent, or a client address in ``[log] meta_networks``
(default: the AS32934 ranges below, as published in routing registries).
"""

from __future__ import annotations

from ipaddress import IPv4Network, IPv6Network, ip_address, ip_network

USER_AGENT_MARKS = ("facebookexternalua", "facebookexternalhit")

Networks = tuple[IPv4Network | IPv6Network, ...]

META_NETWORKS: Networks = tuple(
    ip_network(network)
    for network in (
        "31.13.24.0/21",
        "31.13.64.0/18",
        "57.141.0.0/16",
        "66.220.144.0/20",
        "69.63.176.0/20",
        "69.171.224.0/19",
        "157.240.0.0/16",
        "173.252.64.0/18",
        "179.60.192.0/22",
        "185.60.216.0/22",
        "204.15.20.0/22",
        "2a03:2880::/32",
    )
)


def is_meta_user_agent(user_agent: str) -> bool:
    """The user agent names Meta's fetcher (or its link-preview crawler)."""
    agent = user_agent.lower()
    return any(mark in agent for mark in USER_AGENT_MARKS)


def is_meta_address(client: str | None, networks: Networks) -> bool:
    """The client address is in one of ``networks``; an absent or malformed
    address is in none.

    Apart from the user agent because its answer depends on the address alone,
    so a caller can remember it per address; the user agent's cannot be.
    """
    if not client:
        return False
    try:
        address = ip_address(client)
    except ValueError:
        return False
    return any(address in network for network in networks)
