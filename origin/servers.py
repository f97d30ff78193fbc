"""Running the app under an HTTP server: granian (the default, chosen by
measurement: see README "Performance") or uvicorn.

Both get the same ASGI app and the same checked config; the CLI has already
loaded it, so a config error never reaches a server. The whole test suite runs
under both.
"""

from __future__ import annotations

import logging
import math
import os
import signal

from origin.app import CONFIG_ENV, MediaOrigin
from origin.config import Config, ConfigError, load_config

logger = logging.getLogger("media_origin")


def _hand_over(config: Config) -> None:
    """Worker processes import the app themselves: they get the same config file,
    the one the CLI has checked, by environment."""
    if config.path is not None:
        os.environ[CONFIG_ENV] = str(config.path)


def run_uvicorn(config: Config, host: str, port: int, workers: int = 1) -> None:
    import uvicorn

    if workers > 1:
        _hand_over(config)
    # uvicorn drains, restores the handler it found and raises the signal again;
    # finding this one, a drained SIGTERM ends in exit status 0, as documented.
    signal.signal(signal.SIGTERM, lambda number, frame: None)
    uvicorn.run(
        MediaOrigin(config) if workers == 1 else "origin.app:create_app",
        factory=workers > 1,
        workers=workers if workers > 1 else None,
        host=host,
        port=port,
        server_header=False,
        access_log=False,
        proxy_headers=False,  # client addresses are the access log's business, not uvicorn's
        timeout_graceful_shutdown=math.ceil(config.server.shutdown_grace),
        log_level="info",
    )


def run_granian(config: Config, host: str, port: int, workers: int = 1) -> None:
    """granian imports the app in its worker processes, even with one."""
    from granian import Granian

    _hand_over(config)
    server = Granian(
        "origin.app:create_app",
        factory=True,
        interface="asgi",
        address=host,
        port=port,
        workers=workers,
        websockets=False,
        log_access=False,
        log_level="info",
        workers_kill_timeout=max(1, math.ceil(config.server.shutdown_grace)),
    )
    respawn = server.signal_handler_reload

    def reload_if_valid(*args, **kwargs) -> None:
        """SIGHUP: granian would respawn its workers with whatever the file says now;
        only a config that loads is let through, else the old workers keep serving."""
        if config.path is None:
            logger.warning("reload: running on the built-in default, there is no file to read")
            return
        try:
            load_config(config.path)
        except ConfigError as error:
            logger.error("reload refused, the running config stays: %s", error)
            return
        respawn(*args, **kwargs)

    server.signal_handler_reload = reload_if_valid
    server.serve()


RUNNERS = {"uvicorn": run_uvicorn, "granian": run_granian}
