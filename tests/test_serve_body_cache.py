from origin.serve.body_cache import BodyCache


def test_small_bodies_are_kept_by_version():
    cache = BodyCache(max_file=10, budget=100)
    cache.put(("a", 1), b"0123456789")
    assert cache.get(("a", 1)) == b"0123456789"
    assert cache.get(("a", 2)) is None


def test_large_bodies_are_never_kept():
    cache = BodyCache(max_file=10, budget=100)
    cache.put("big", b"x" * 11)
    assert cache.get("big") is None and cache.size == 0


def test_the_budget_holds_by_forgetting_the_oldest():
    cache = BodyCache(max_file=10, budget=25)
    for version in range(5):
        cache.put(version, bytes(10))
        assert cache.size <= 25
    assert cache.get(0) is None and cache.get(1) is None and cache.get(2) is None
    assert cache.get(3) is not None and cache.get(4) is not None
