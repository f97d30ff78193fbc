"""Running the app under an HTTP server: granian (the default, chosen by
measurement: see README "Performance") or uvicorn.

Both get the same ASGI app and the same checked config; the CLI has already
loaded it, so a config error never reaches a server. The whole test suite runs
under both.
"""

from __future__ import annotations

import os

from origin.app import CONFIG_ENV, MediaOrigin
from origin.config import Config


def run_uvicorn(config: Config, host: str, port: int) -> None:
    import uvicorn

    uvicorn.run(
        MediaOrigin(config),
        host=host,
        port=port,
        server_header=False,
        access_log=False,
        proxy_headers=False,  # client addresses are the access log's business, not uvicorn's
        log_level="info",
    )


def run_granian(config: Config, host: str, port: int) -> None:
    """granian imports the app in its worker process: the config travels by
    environment (the same file the CLI checked), and the factory loads it."""
    from granian import Granian

    if config.path is not None:
        os.environ[CONFIG_ENV] = str(config.path)
    Granian(
        "origin.app:create_app",
        factory=True,
        interface="asgi",
        address=host,
        port=port,
        workers=1,
        websockets=False,
        log_access=False,
        log_level="info",
    ).serve()


RUNNERS = {"uvicorn": run_uvicorn, "granian": run_granian}
