"""Benchmark media-origin against peers measured in the same run, on 127.0.0.1.

    python bench/run.py [--rounds 3] [--seconds 5] [--connections 32]

Needs wrk (Debian: apt-get install wrk); nginx joins when installed
(apt-get install nginx-light). Prints, per workload, the median over rounds
(servers alternate within each round) and the ratio to media-origin, then the
peak memory growth of each server while 8 clients download a 100 MB file.
Every server is stopped on exit; every load is bounded in time.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
WORK = BENCH / "work"
ROOT = WORK / "media"
SMALL = "/img/small.jpg"  # 40 KB
BIG = "/video/big.mp4"  # 100 MB
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Server:
    name: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    port: int = 0
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        argv = [part.replace("{PORT}", str(self.port)) for part in self.argv]
        self.process = subprocess.Popen(
            argv,
            cwd=REPO,
            env={**os.environ, **self.env},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}")
            with contextlib.suppress(OSError):
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            time.sleep(0.05)
        raise RuntimeError(f"{self.name} did not start")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()

    def _group(self) -> Iterator[Path]:
        """/proc entries of the server's process group (nginx works in a child)."""
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                with contextlib.suppress(OSError):
                    fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                    if int(fields[2]) == self.process.pid:
                        yield entry

    def cpu_seconds(self) -> float:
        total = 0
        for entry in self._group():
            with contextlib.suppress(OSError):
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                total += int(fields[11]) + int(fields[12])
        return total / CLOCK_TICKS

    def rss_kib(self) -> int:
        total = 0
        for entry in self._group():
            with contextlib.suppress(OSError, AttributeError):
                status = (entry / "status").read_text()
                total += int(re.search(r"VmRSS:\s+(\d+)", status).group(1))
        return total


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prepare_content() -> None:
    for path, size in ((SMALL, 40 * 1024), ("/video/video.mp4", 16 * 1024 * 1024)):
        target = ROOT / path.lstrip("/")
        if not target.exists() or target.stat().st_size != size:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(os.urandom(size))
    big = ROOT / BIG.lstrip("/")
    if not big.exists():
        with big.open("wb") as file:
            file.truncate(100 * 1024 * 1024)
    (WORK / "config.toml").write_text(
        '[storage]\nroot = "media"\n\n[policy."/"]\ncache_control = "max-age=86400"\n'
    )


def servers() -> list[Server]:
    python = sys.executable
    found = [
        Server(
            "media-origin",
            [
                python,
                "-m",
                "origin",
                "serve",
                "--config",
                str(WORK / "config.toml"),
                "--port",
                "{PORT}",
            ],
        ),
        Server(
            "starlette+uvicorn",
            [
                python,
                "-m",
                "uvicorn",
                "--factory",
                "bench.peers:starlette_staticfiles",
                "--port",
                "{PORT}",
                "--no-access-log",
                "--log-level",
                "warning",
            ],
            env={"BENCH_ROOT": str(ROOT)},
        ),
    ]
    nginx = shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )
    if nginx:
        (WORK / "nginx-tmp").mkdir(exist_ok=True)
        found.insert(0, Server("nginx", [nginx, "-c", str(WORK / "nginx.conf")]))
    return found


def write_nginx_config(port: int) -> None:
    text = (BENCH / "nginx.conf").read_text()
    for key, value in (("{ROOT}", str(ROOT)), ("{PORT}", str(port)), ("{WORK}", str(WORK))):
        text = text.replace(key, value)
    (WORK / "nginx.conf").write_text(text)


@contextlib.contextmanager
def running(server: Server) -> Iterator[Server]:
    server.port = free_port()
    if server.name == "nginx":
        write_nginx_config(server.port)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def wrk(
    url: str, seconds: int, connections: int, headers: dict[str, str]
) -> tuple[float, int, float]:
    """(requests/s, requests, MiB/s) from one bounded wrk run."""
    argv = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    for name, value in headers.items():
        argv[1:1] = ["-H", f"{name}: {value}"]
    output = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 30).stdout
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    transfer = re.search(r"Transfer/sec:\s+([\d.]+)(\w+)", output)
    scale = {"B": 1 / 2**20, "KB": 1 / 1024, "MB": 1, "GB": 1024}[transfer.group(2)]
    return rate, requests, float(transfer.group(1)) * scale


def head(url: str) -> dict[str, str]:
    request = urllib.request.Request(url, method="HEAD")
    with urllib.request.urlopen(request, timeout=10) as response:
        return {k.lower(): v for k, v in response.headers.items()}


def workloads(server: Server, seconds: int, connections: int) -> dict[str, tuple[float, float]]:
    """Each workload's figure, and the server's CPU µs per request in it."""
    results: dict[str, tuple[float, float]] = {}
    etag = head(server.url + SMALL)["etag"]
    plan = [
        ("GET 40 KB, req/s", SMALL, {}, "rate"),
        ("304 If-None-Match, req/s", SMALL, {"If-None-Match": etag}, "rate"),
        ("GET 16 MB, MiB/s", "/video/video.mp4", {}, "throughput"),
        ("1 MB range, req/s", "/video/video.mp4", {"Range": "bytes=1048576-2097151"}, "rate"),
    ]
    for name, path, headers, figure in plan:
        cpu_before = server.cpu_seconds()
        rate, requests, throughput = wrk(server.url + path, seconds, connections, headers)
        cpu_us = (server.cpu_seconds() - cpu_before) * 1e6 / max(requests, 1)
        results[name] = (rate if figure == "rate" else throughput, cpu_us)
    return results


def peak_memory(server: Server, clients: int = 8) -> tuple[float, float]:
    """(peak RSS, its growth) in MiB while ``clients`` download the 100 MB file at once."""
    before = server.rss_kib()
    peak = before
    done = threading.Event()
    errors: list[str] = []

    def download() -> None:
        try:
            with urllib.request.urlopen(server.url + BIG, timeout=120) as response:
                while response.read(1 << 20):
                    pass
        except OSError as error:
            errors.append(str(error))

    threads = [threading.Thread(target=download) for _ in range(clients)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 180
    while any(t.is_alive() for t in threads) and time.monotonic() < deadline:
        peak = max(peak, server.rss_kib())
        time.sleep(0.01)
    done.set()
    for thread in threads:
        thread.join(timeout=5)
    if errors:
        raise RuntimeError(f"{server.name}: downloads failed: {errors[0]}")
    return peak / 1024, (peak - before) / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=5, help="per wrk run")
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        print("bench: wrk is needed (Debian: apt-get install wrk)", file=sys.stderr)
        return 2
    prepare_content()
    contenders = servers()
    figures: dict[str, dict[str, list[float]]] = {s.name: {} for s in contenders}
    cpu: dict[str, dict[str, list[float]]] = {s.name: {} for s in contenders}
    memory: dict[str, tuple[float, float]] = {}
    for round_number in range(1, args.rounds + 1):
        order = contenders if round_number % 2 else contenders[::-1]
        for server in order:
            with running(server):
                print(f"round {round_number}: {server.name}", file=sys.stderr, flush=True)
                if round_number == 1:
                    # First, on a fresh process: growth over its idle size.
                    head(server.url + SMALL)
                    memory[server.name] = peak_memory(server)
                for name, (value, cpu_us) in workloads(
                    server, args.seconds, args.connections
                ).items():
                    figures[server.name].setdefault(name, []).append(value)
                    cpu[server.name].setdefault(name, []).append(cpu_us)
    print_table(contenders, figures, cpu, memory, args)
    return 0


def print_table(contenders, figures, cpu, memory, args) -> None:
    names = [s.name for s in contenders]
    width = max(len(n) for n in names) + 2
    print(
        f"\n{args.rounds} rounds, medians; wrk -t2 -c{args.connections} -d{args.seconds}s on "
        f"127.0.0.1; {os.cpu_count()} cores; ratio = media-origin / peer\n"
    )
    print(f"{'workload':34}" + "".join(f"{n:>{width}}" for n in names) + "   media-origin vs peers")
    for workload in figures["media-origin"]:
        medians = {n: statistics.median(figures[n][workload]) for n in names}
        ratios = ", ".join(
            f"{medians['media-origin'] / medians[n]:.2f}x {n}" for n in names if n != "media-origin"
        )
        print(
            f"{workload:34}" + "".join(f"{medians[n]:>{width},.0f}" for n in names) + f"   {ratios}"
        )
    print(
        f"{'server CPU µs per 40 KB GET':34}"
        + "".join(f"{statistics.median(cpu[n]['GET 40 KB, req/s']):>{width},.0f}" for n in names)
    )
    print(
        f"{'server CPU µs per 304':34}"
        + "".join(
            f"{statistics.median(cpu[n]['304 If-None-Match, req/s']):>{width},.0f}" for n in names
        )
    )
    print(
        f"{'peak RSS (growth), 8 x 100 MB, MiB':34}"
        + "".join(f"{f'{memory[n][0]:.0f} (+{memory[n][1]:.1f})':>{width}}" for n in names)
    )


if __name__ == "__main__":
    sys.exit(main())
