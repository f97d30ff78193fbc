from storage.bounded import remember


def test_the_oldest_entry_goes_first_and_updates_do_not_evict():
    table: dict = {}
    for key in "abc":
        remember(table, key, key.upper(), limit=3)
    remember(table, "b", "again", limit=3)  # already there: nothing is forgotten
    assert table == {"a": "A", "b": "again", "c": "C"}
    remember(table, "d", "D", limit=3)
    assert list(table) == ["b", "c", "d"]
