"""Running the app under an HTTP server: granian (the default, chosen by
measurement: see README "Performance") or uvicorn.

Both get the same ASGI app and the same checked config; the CLI has already
loaded it, so a config error never reaches a server. The whole test suite runs
under both.

SIGHUP reloads, and never stops the server, whoever sends it and however often.
A terminal, ``kill -HUP -PGID`` or a process manager signals the whole process
group, so granian's workers get it as well as its supervisor, at any moment of
their lives, including while they start. So: the supervisor checks the file and
hands the workers the config it checked (a worker that read the file itself
could find it broken since and fail to start, and granian stops the whole server,
exit 1, when a worker fails); and no process of the server is ever left with
SIGHUP's default action, which is to end it.
"""

from __future__ import annotations

import contextlib
import logging
import math
import multiprocessing
import signal
import socket
from collections.abc import Iterator

# Its worker processes are pickled by class name, so the subclass below must be
# reachable by import: uvicorn is a dependency, and this module is imported to serve.
from starlette.types import ASGIApp
from uvicorn.supervisors import multiprocess as uvicorn_multiprocess

from origin.app import build_app
from origin.config import Config, reloaded

logger = logging.getLogger("media_origin")


def ignore_sighup_until_the_app_handles_it() -> None:
    """SIGHUP ignored, and let through again if the process started with it blocked:
    until the app's lifespan installs its own handler (a reload in place), a SIGHUP
    meant for the group must not kill a process that is still starting."""
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGHUP})


@contextlib.contextmanager
def _sighup_held_back() -> Iterator[None]:
    """SIGHUP blocked in this thread while it starts a worker process, which inherits
    the mask (through fork, and through exec for the spawn method): so the worker
    cannot die of a SIGHUP before it has set what to do with one. Here, a SIGHUP
    that came meanwhile stays pending and is taken on unblocking, not lost. Only
    around the start itself: a SIGHUP held back longer would read the file late."""
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGHUP})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def run_uvicorn(config: Config, host: str, port: int, workers: int = 1) -> None:
    import uvicorn

    settings = {
        "host": host,
        "port": port,
        "server_header": False,
        "access_log": False,
        "proxy_headers": False,  # client addresses are the access log's business
        "timeout_graceful_shutdown": math.ceil(config.server.shutdown_grace),
        "log_level": "info",
    }
    # uvicorn drains, restores the handler it found and raises the signal again;
    # finding this one, a drained SIGTERM ends in exit status 0, as documented.
    signal.signal(signal.SIGTERM, lambda number, frame: None)
    if workers == 1:
        # Until the app's lifespan takes SIGHUP (a reload in place), it must not end us.
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        uvicorn.run(build_app(config), **settings)
        return
    # Worker processes, spawned, each building the app from the config checked last.
    # (uvicorn.run wants an import string there, which would read the file again.)
    workers_config = uvicorn.Config(CheckedApp(config), factory=True, workers=workers, **settings)
    # Multiprocess makes its workers by this module-level name (at start, on a
    # restart, on replacing one that died): the one way to reach every start.
    uvicorn_multiprocess.Process = HeldBackProcess
    UvicornSupervisor(workers_config, sockets=[workers_config.bind_socket()]).run()


class HeldBackProcess(uvicorn_multiprocess.Process):
    """A uvicorn worker process started with SIGHUP held back (see _sighup_held_back).
    The first start also launches multiprocessing's resource tracker (the spawn
    method needs it), which so becomes immune to a group SIGHUP too."""

    def start(self) -> None:
        with _sighup_held_back():
            super().start()


class UvicornSupervisor(uvicorn_multiprocess.Multiprocess):
    """uvicorn's Multiprocess, reloading the way granian's supervisor does here.

    SIGHUP: the file is checked at the signal, and only a config that loads replaces
    the workers, each built from the config checked last (CheckedApp travels with
    uvicorn's settings to every worker spawned). The SIGHUPs that came during a
    restart make one more restart, not one each. Workers start with SIGHUP held
    back, and one that dies anyway is replaced from that config too, never from the
    file, so it cannot fail on a file broken since.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.checked = 0  # configs checked at a SIGHUP
        self.applied = 0  # the last of them a restart has started with
        signal.signal(signal.SIGHUP, self.check_on_sighup)

    def check_on_sighup(self, number: int, frame: object) -> None:
        """Read now: by the time the supervisor's loop gets to it (every half second,
        after any restart under way) the file may have changed again."""
        app: CheckedApp = self.config.app
        new = reloaded(app.config)
        if new is not None:
            app.config = new
            self.checked += 1
            self.signal_queue.append(number)

    def handle_hup(self) -> None:
        if self.applied == self.checked:
            return  # a restart already under way answers this SIGHUP
        self.applied = self.checked
        logger.warning("reload: %s checked, restarting the workers", self.config.app.config.path)
        super().handle_hup()


class CheckedApp:
    """What a worker process calls for the app: the app over the config the
    supervisor checked last, never the file read again. Picklable (a Config is): it
    travels to uvicorn's spawned workers, and to granian's when they are spawned
    rather than forked."""

    def __init__(self, config: Config) -> None:
        self.config = config

    def __call__(self, target: str | None = None) -> ASGIApp:
        ignore_sighup_until_the_app_handles_it()
        return build_app(self.config)


def run_granian(config: Config, host: str, port: int, workers: int = 1) -> None:
    """granian runs the app in its worker processes, even with one."""
    from granian import Granian

    class Supervisor(Granian):
        def _spawn_worker(self, *args, **kwargs):
            """Each worker is started with SIGHUP held back (see _sighup_held_back)."""
            worker = super()._spawn_worker(*args, **kwargs)
            start = worker.start

            def start_with_sighup_held_back() -> None:
                with _sighup_held_back():
                    start()

            worker.start = start_with_sighup_held_back
            return worker

        def _init_shared_socket(self) -> None:
            """One worker: a listening socket of our own, without SO_REUSEPORT.

            On Linux granian has each worker bind the address with SO_REUSEPORT,
            which is how several workers share it, and also how a second server
            on the same port would silently take half the traffic. A lone worker
            needs no sharing: it inherits this socket (bound with SO_REUSEADDR
            only, as uvicorn binds) through fork, and the kernel then refuses
            anyone else the port. Several workers, or workers started another
            way than fork, keep granian's own way."""
            forked = multiprocessing.get_start_method() == "fork"
            if self.workers != 1 or not forked or self.bind_uds:
                super()._init_shared_socket()
                return
            from granian._granian import SocketHolder

            family = socket.AF_INET6 if ":" in self.bind_addr else socket.AF_INET
            sock = socket.create_server(
                (self.bind_addr, self.bind_port),
                family=family,
                backlog=self.backlog,
                # "::" takes IPv4 too, as granian's own socket does
                dualstack_ipv6=family == socket.AF_INET6 and socket.has_dualstack_ipv6(),
            )
            sock.set_inheritable(True)
            self._ssp = None
            self._shd = SocketHolder(sock.fileno(), False, self.backlog)
            self._sfd = sock.fileno()
            self._sso = sock

    server = Supervisor(
        "origin.app:create_app",  # its name only (process titles): CheckedApp loads it
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
    app = CheckedApp(config)
    respawn = server.signal_handler_reload

    def reload_if_valid(*args, **kwargs) -> None:
        """SIGHUP: granian respawns its workers, gracefully, one by one; only with a
        config that loads, and with that very config, else the old workers keep
        serving. A SIGHUP during a respawn sets off one more, with the newest file."""
        new = reloaded(app.config)
        if new is None:
            return
        app.config = new
        logger.warning("reload: %s checked, respawning the workers", new.path)
        respawn(*args, **kwargs)

    server.signal_handler_reload = reload_if_valid
    server.serve(target_loader=app)


RUNNERS = {"uvicorn": run_uvicorn, "granian": run_granian}
