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


def starlette_upload():
    """The usual Starlette upload endpoint: PUT streams request.stream() to a file."""
    from pathlib import Path

    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    root = Path(os.environ["BENCH_ROOT"])

    async def put(request: Request) -> JSONResponse:
        target = root / request.path_params["path"]
        target.parent.mkdir(parents=True, exist_ok=True)
        size = 0
        with target.open("wb") as file:
            async for chunk in request.stream():
                file.write(chunk)
                size += len(chunk)
        return JSONResponse({"size": size}, status_code=201)

    return Starlette(routes=[Route("/{path:path}", put, methods=["PUT"])])
