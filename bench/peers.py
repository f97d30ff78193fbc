"""Peer servers the benchmark compares media-origin with, on the same files."""

import os

from starlette.staticfiles import StaticFiles


def starlette_staticfiles() -> StaticFiles:
    """``uvicorn --factory bench.peers:starlette_staticfiles`` serving $BENCH_ROOT."""
    return StaticFiles(directory=os.environ["BENCH_ROOT"])
