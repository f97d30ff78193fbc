"""Policy resolution: the most specific folder wins, missing keys are inherited."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from origin.policy import DEFAULT_POLICY, Policy, PolicyTable, parent_folders, resolve_policies


def test_built_in_default_is_the_documented_one():
    assert (
        Policy(folder="/", cache_control="max-age=86400", last_modified=True, etag="strong")
        == DEFAULT_POLICY
    )
    assert resolve_policies({}).for_path("/a/b.jpg") == DEFAULT_POLICY


@pytest.fixture
def table() -> PolicyTable:
    return resolve_policies(
        {
            "/": {"cache_control": "max-age=60", "cdn_cache_control": "max-age=30"},
            "/campaigns": {"cache_control": "max-age=604800, immutable"},
            "/campaigns/2026/private": {"etag": "off"},
            "/invoices": {"cache_control": "private, no-store", "etag": "off"},
        }
    )


@pytest.mark.parametrize(
    ("path", "folder"),
    [
        ("/x.jpg", "/"),
        ("/campaigns/x.jpg", "/campaigns"),
        ("/campaigns/2026/x.jpg", "/campaigns"),
        ("/campaigns/2026/private/x.jpg", "/campaigns/2026/private"),
        ("/campaigns/2026/privatex/x.jpg", "/campaigns"),  # folder boundaries, not prefixes
        ("/campaignsX/x.jpg", "/"),
        ("/campaigns", "/"),  # a file named like the folder is in "/"
        ("/invoices/2026/05/a.pdf", "/invoices"),
    ],
)
def test_most_specific_folder_wins(table, path, folder):
    assert table.for_path(path).folder == folder


def test_missing_keys_come_from_the_nearest_ancestor(table):
    deep = table.by_folder["/campaigns/2026/private"]
    assert deep.cache_control == "max-age=604800, immutable"  # from /campaigns
    assert deep.cdn_cache_control == "max-age=30"  # from /
    assert deep.etag == "off"  # its own
    assert deep.last_modified is True  # built-in default
    assert table.by_folder["/invoices"].cdn_cache_control == "max-age=30"


def test_parent_folders():
    assert parent_folders("/a/b/c") == ["/a/b", "/a", "/"]
    assert parent_folders("/") == []


def _deepest_by_every_prefix(table: PolicyTable, path: str) -> Policy:
    """The rule spelled out: every folder prefix of ``path``, deepest first."""
    segments = path.split("/")[1:-1]
    for depth in range(len(segments), 0, -1):
        folder = "/" + "/".join(segments[:depth])
        if folder in table.by_folder:
            return table.by_folder[folder]
    return table.by_folder["/"]


@given(st.lists(st.sampled_from(["a", "b", "campaigns", "2026", "é", ""]), max_size=12))
def test_for_path_agrees_with_trying_every_prefix(segments):
    table = resolve_policies(
        {"/": {}, "/a": {"etag": "weak"}, "/a/b": {"etag": "off"}, "/campaigns/2026": {}}
    )
    path = "/" + "/".join([*segments, "file.jpg"])
    assert table.for_path(path) == _deepest_by_every_prefix(table, path)


def test_a_path_of_thousands_of_segments_tries_only_short_prefixes():
    table = resolve_policies({"/": {}, "/a": {"etag": "weak"}})
    assert table.for_path("/a" + "/x" * 5_000 + "/f.jpg").folder == "/a"
    assert table.for_path("/x" * 5_000 + "/f.jpg").folder == "/"
    assert table.longest_folder == 2
