import pytest

from origin.paths import storage_path


@pytest.mark.parametrize(
    ("url_path", "expected"),
    [
        ("/a.jpg", "a.jpg"),
        ("/campaigns/2026/promo.jpg", "campaigns/2026/promo.jpg"),
        ("/with space é.pdf", "with space é.pdf"),
        ("/%2e%2e/x", "%2e%2e/x"),  # doubly encoded: a literal name, traverses nothing
        ("/", None),
        ("", None),
        ("a.jpg", None),
        ("/campaigns/", None),  # a folder
        ("/../etc/passwd", None),
        ("/a/../../etc/passwd", None),
        ("/./a.jpg", None),
        ("/a//b.jpg", None),
        ("//etc/passwd", None),
        ("/.env", None),
        ("/.git/config", None),
        ("/a/.hidden/b.jpg", None),
        ("/a\\..\\..\\b", None),
        ("/a\x00.jpg", None),
        ("/a\n.jpg", None),
        ("/" + "x" * 256, None),
        ("/" + "x" * 255, "x" * 255),
        ("/" + "a/" * 2100 + "b", None),
    ],
)
def test_storage_path(url_path, expected):
    assert storage_path(url_path) == expected
