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
import errno
import ipaddress
import logging
import math
import multiprocessing
import os
import signal
import socket
from collections.abc import Iterator
from pathlib import Path

# Its worker processes are pickled by class name, so the subclass below must be
# reachable by import: uvicorn is a dependency, and this module is imported to serve.
from starlette.types import ASGIApp
from uvicorn.supervisors import multiprocess as uvicorn_multiprocess

from origin.app import build_app
from origin.cli.errors import CommandError
from origin.config import Config, reloaded

logger = logging.getLogger("media_origin")


def refuse_if_served(host: str, port: int) -> None:
    """Raise CommandError when host:port cannot be bound, before any server gets it.

    granian binds with SO_REUSEPORT, so a second server on a busy port would start
    and silently split the traffic with the first; uvicorn would die of a buried
    [Errno 98]. A test bind the way a lone server binds (SO_REUSEADDR, which only
    reuses TIME_WAIT, and never SO_REUSEPORT) fails exactly when another process
    listens there. There is a moment between this check and the server's own bind;
    what it guards against is the mistake of starting twice, not a race.
    """
    try:
        addresses = socket.getaddrinfo(
            host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
    except socket.gaierror as error:
        raise CommandError(f"cannot serve on {host}: {error.strerror}") from None
    unusable = []
    for family, kind, proto, _, address in addresses:
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                # "::" as granian binds it, dual-stack: an IPv4 listener stands in the way too
                probe.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
            try:
                probe.bind(address)
            except OSError as error:
                shown = _address(address[0], port)
                if error.errno == errno.EADDRINUSE:
                    holder = listener_of(address[0], port)
                    by = f" by {holder}" if holder else ""
                    raise CommandError(
                        f"{shown} is already served{by}; stop it first, or give another --port"
                    ) from None
                unusable.append(f"cannot serve on {shown}: {error.strerror}")
    # A name with an address that cannot be had here (localhost's ::1 without IPv6)
    # still serves on the others; only when none can be bound is it refused.
    if unusable and len(unusable) == len(addresses):
        raise CommandError(unusable[0])


def _address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def listener_of(host: str, port: int) -> str | None:
    """ "pid N (command line)" of a process listening on host:port (or on every
    address), found through /proc; None when it cannot be seen (another user's
    process, another namespace, not Linux)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                local, state, inode = fields[1], fields[3], fields[9]
                address_hex, port_hex = local.split(":")
                listening = state == "0A" and int(port_hex, 16) == port and inode != "0"
                if listening and _overlaps(_proc_address(address_hex), host):
                    inodes.add(f"socket:[{inode}]")
    if not inodes:
        return None
    holders = []
    for process in Path("/proc").iterdir():
        if not process.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            for fd in (process / "fd").iterdir():
                with contextlib.suppress(OSError):
                    if os.readlink(fd) in inodes:
                        holders.append(int(process.name))
                        break
    if not holders:
        return None
    pid = _eldest(holders)
    raw = _cmdline(pid)
    # granian's supervisor leaves the socket to its forked workers: name the parent
    # they were forked from (same command line), the process to stop.
    while (parent := _parent(pid)) is not None and raw and _cmdline(parent) == raw:
        pid = parent
    if not raw:
        return f"pid {pid}"
    command = " ".join(raw.replace(b"\0", b" ").decode(errors="replace").split())
    if len(command) > 120:
        command = command[:117] + "..."
    return f"pid {pid} ({command})" if command else f"pid {pid}"


def _eldest(pids: list[int]) -> int:
    """Of the processes sharing a socket (a supervisor and its workers), the one
    whose parent does not share it: the one to stop."""
    shared = set(pids)
    for pid in sorted(pids):
        if _parent(pid) not in shared:
            return pid
    return min(pids)


def _parent(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        parent = int(stat.rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return parent if parent > 1 else None


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _proc_address(hex_address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """An address as /proc/net/tcp{,6} writes it: 32-bit words in host byte order."""
    try:
        raw = bytes.fromhex(hex_address)
        words = [raw[i : i + 4][::-1] for i in range(0, len(raw), 4)]
        address = ipaddress.ip_address(b"".join(words))
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def _overlaps(listened: ipaddress.IPv4Address | ipaddress.IPv6Address | None, host: str) -> bool:
    """Whether a listener on that address stands in the way of binding host."""
    if listened is None or listened.is_unspecified:
        return True
    try:
        wanted = ipaddress.ip_address(host)
    except ValueError:
        return True  # a name: whatever listens on the port is the likely culprit
    return wanted.is_unspecified or wanted == listened


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
