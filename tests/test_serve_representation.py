"""Headers built once per file version, from the policy and the file's metadata."""

import pytest

from origin.http.disposition import content_disposition
from origin.policy import Policy
from origin.serve.representation import build_representation
from storage.base import FileStat

STAT = FileStat(size=1234, mtime=1_645_568_542.75, version=1)  # Tue, 22 Feb 2022 22:22:22 GMT
HASH = "33a64df551425fcc55e4d42a148795d9"


def headers(representation, which="ok_headers"):
    """``which``: "ok_headers", "partial_headers", or "not_modified" (the 304's)."""
    found = getattr(representation, which)
    found = found.headers if which == "not_modified" else found
    return {name.decode(): value.decode() for name, value in found}


def test_default_policy_headers():
    built = build_representation("/a/photo.jpg", STAT, Policy(), HASH, now=2e9)
    assert headers(built) == {
        "content-length": "1234",
        "content-type": "image/jpeg",
        "accept-ranges": "bytes",
        "x-content-type-options": "nosniff",
        "cache-control": "max-age=86400",
        "etag": f'"{HASH}"',
        "last-modified": "Tue, 22 Feb 2022 22:22:22 GMT",
    }
    assert headers(built, "not_modified") == {
        "cache-control": "max-age=86400",
        "etag": f'"{HASH}"',
        "last-modified": "Tue, 22 Feb 2022 22:22:22 GMT",
    }
    assert "content-length" not in headers(built, "partial_headers")
    assert built.last_modified == 1_645_568_542  # whole seconds, as sent
    assert built.cacheable


def test_weak_off_and_empty_policy_values():
    weak = build_representation("/n.txt", STAT, Policy(etag="weak"), HASH, now=2e9)
    assert headers(weak)["etag"] == f'W/"{HASH}"'
    bare = build_representation(
        "/n.txt", STAT, Policy(cache_control="", last_modified=False, etag="off"), None, now=2e9
    )
    assert not {"cache-control", "etag", "last-modified"} & set(headers(bare))
    assert bare.not_modified.headers == []


def test_cdn_cache_control_and_disposition_reach_304_where_they_belong():
    policy = Policy(cdn_cache_control="max-age=60", content_disposition="attachment")
    built = build_representation("/inv/INV-1.pdf", STAT, policy, HASH, now=2e9)
    assert headers(built)["cdn-cache-control"] == "max-age=60"
    assert headers(built)["content-disposition"] == 'attachment; filename="INV-1.pdf"'
    assert headers(built, "not_modified")["cdn-cache-control"] == "max-age=60"


def test_a_future_mtime_is_clamped_and_not_cached():
    built = build_representation("/a.txt", STAT, Policy(), HASH, now=STAT.mtime - 100)
    assert built.last_modified == int(STAT.mtime - 100)
    assert not built.cacheable


def test_etag_needs_a_hash():
    with pytest.raises(ValueError, match="content hash"):
        build_representation("/a.txt", STAT, Policy(), None, now=2e9)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("a.pdf", 'inline; filename="a.pdf"'),
        ('we"ird\\.pdf', 'inline; filename="we\\"ird\\\\.pdf"'),
        (
            "facture é.pdf",
            "inline; filename=\"facture _.pdf\"; filename*=UTF-8''facture%20%C3%A9.pdf",
        ),
        ("a\r\nb.pdf", "inline; filename=\"a__b.pdf\"; filename*=UTF-8''a%0D%0Ab.pdf"),
    ],
)
def test_content_disposition(name, expected):
    assert content_disposition("inline", name) == expected
