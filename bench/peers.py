"""Peer servers the benchmark compares media-origin with, on the same files
($BENCH_ROOT), each with the same one-day max-age media-origin sends there."""

import os

from servestatic import ServeStaticASGI
from starlette.staticfiles import StaticFiles


def starlette_staticfiles() -> StaticFiles:
    """Starlette's StaticFiles as people deploy it (it sends no Cache-Control)."""
    return StaticFiles(directory=os.environ["BENCH_ROOT"])


def servestatic() -> ServeStaticASGI:
    """ServeStatic in production mode (files indexed at start-up)."""
    return ServeStaticASGI(None, root=os.environ["BENCH_ROOT"], max_age=86400)
