"""Does a request look like Meta's fetcher: by its user agent, or its address."""

from ipaddress import ip_network

import pytest

from origin.whatsapp.fetcher import (
    META_NETWORKS,
    is_meta_address,
    is_meta_user_agent,
)

OWN = (ip_network("192.0.2.0/24"),)


@pytest.mark.parametrize(
    ("agent", "expected"),
    [
        ("facebookexternalua", True),
        ("Mozilla/5.0 (compatible; FacebookExternalHit/1.1)", True),
        ("WhatsApp/2.23.20 A", False),
        ("curl/8.0", False),
        ("", False),
    ],
)
def test_user_agent(agent, expected):
    assert is_meta_user_agent(agent) is expected


@pytest.mark.parametrize(
    ("client", "networks", "expected"),
    [
        ("157.240.1.1", META_NETWORKS, True),
        ("2a03:2880::1", META_NETWORKS, True),
        ("8.8.8.8", META_NETWORKS, False),
        ("192.0.2.7", OWN, True),
        ("157.240.1.1", OWN, False),  # [log] meta_networks replaces the default
        ("157.240.1.1", (), False),
        (None, META_NETWORKS, False),
        ("", META_NETWORKS, False),
        ("not an address", META_NETWORKS, False),
        ("157.240.1.1:443", META_NETWORKS, False),
    ],
)
def test_address(client, networks, expected):
    assert is_meta_address(client, networks) is expected
