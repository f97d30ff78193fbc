"""One page of a folder as plain values: filtered, sorted (stably, by name
within equal keys), cut into pages; the query read leniently."""

from hypothesis import example, given, settings
from hypothesis import strategies as st

from origin.console.browse import type_of
from origin.console.listing import Entry, View, page_of, query_for, view_from
from origin.whatsapp.media_types import content_type_for

FILES = [
    Entry("b.jpg", 300, "image/jpeg", 20.0),
    Entry("A.pdf", 100, "application/pdf", 30.0),
    Entry("c.mp4", 200, "video/mp4", 10.0),
    Entry("promo-b.jpg", 300, "image/jpeg", 40.0),
]


def names(page):
    return [entry.name for entry in page.entries]


def test_sorted_by_name_without_regard_to_case_by_default():
    assert names(page_of(FILES, View())) == ["A.pdf", "b.jpg", "c.mp4", "promo-b.jpg"]


def test_each_column_sorts_and_ties_keep_the_name_order():
    assert names(page_of(FILES, View(sort="size"))) == ["A.pdf", "c.mp4", "b.jpg", "promo-b.jpg"]
    assert names(page_of(FILES, View(sort="modified", descending=True)))[0] == "promo-b.jpg"
    assert names(page_of(FILES, View(sort="type")))[0] == "A.pdf"


def test_the_filter_is_a_case_insensitive_part_of_the_name():
    shown = page_of(FILES, View(filter="B."))
    assert names(shown) == ["b.jpg", "promo-b.jpg"] and shown.matching == 2


def test_pages_of_a_large_folder():
    many = [Entry(f"f{n:05}.jpg", n, "image/jpeg", n) for n in range(250)]
    first, last = page_of(many, View()), page_of(many, View(page=3))
    assert (first.pages, len(first.entries), first.number) == (3, 100, 1)
    assert names(last)[0] == "f00200.jpg" and len(last.entries) == 50
    assert page_of(many, View(page=99)).number == 3  # past the end: the last page
    assert page_of([], View()).pages == 1


def test_the_query_is_read_leniently():
    assert view_from({"sort": "evil", "page": "-3", "order": "sideways"}) == View()
    assert view_from({"sort": "size", "order": "desc", "page": "2", "filter": " x "}) == View(
        "size", True, "x", 2
    )
    assert view_from({"page": "9" * 50}).page == 1


def test_links_keep_the_view_and_change_what_is_asked():
    view = View("size", True, "promo", 2)
    assert query_for(view, page=3) == "sort=size&order=desc&filter=promo&page=3"


@given(
    st.lists(st.tuples(st.text(min_size=1, max_size=8), st.integers(0, 9)), max_size=60),
    st.sampled_from(["name", "size", "type", "modified"]),
    st.booleans(),
    st.integers(1, 5),
)
def test_pages_partition_the_matching_entries(items, sort, descending, per_page):
    entries = [Entry(name, size, "t", size) for name, size in items]
    first = page_of(entries, View(sort, descending), per_page)
    seen = []
    for number in range(1, first.pages + 1):
        seen += page_of(entries, View(sort, descending, page=number), per_page).entries
    assert sorted(seen, key=id) == sorted(entries, key=id)


@given(
    st.text(alphabet="abcXYZ-_ 1.", min_size=0, max_size=12),
    st.sampled_from(
        ["", ".jpg", ".JPEG", ".png", ".pdf", ".tar.gz", ".mp4", ".ogg", ".webp", ".x"]
    ),
)
@example(".c", "")  # found by hypothesis: a leading dot is no suffix here
@example("", ".jpg")  # and one here
@example("..tar", ".gz")
@settings(max_examples=2000)
def test_the_type_read_by_suffix_is_the_type_of_the_name(stem, suffix):
    """The console asks a type once per suffix: it must be the name's own type."""
    name = stem + suffix
    assert type_of(name) == content_type_for(name)
