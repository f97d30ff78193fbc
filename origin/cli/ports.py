"""Whether an address can be served, and who holds it when it cannot: checked
before any server starts, so that starting twice is a clear one-line refusal."""

from __future__ import annotations

import contextlib
import errno
import ipaddress
import os
import socket
from pathlib import Path

from origin.cli.errors import CommandError


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
