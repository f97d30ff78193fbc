"""Benchmark media-origin against nginx and the Python file servers, in one run.

    make bench        # or: python bench/run.py [--rounds 3] [--seconds 5]

Needs wrk and nginx from Debian (apt-get install wrk nginx-light) and the bench
extras (pip install -e ".[bench]": ServeStatic, matplotlib). Every server runs
on 127.0.0.1 with one worker and the same files; servers alternate within each
round (the order reverses every other round) and the table shows medians.
media-origin runs as a user runs it: ``media-origin serve``, with the shipped
config.toml ("as shipped": access log and metrics on, the log written to a file)
and with both off; nginx with and without its access log (buffer=64k, as it is
run in production). Every load is bounded in time and every process is stopped
on exit. Prints a table with ratios and the targets, and writes
bench/results.png and bench/results.md.
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
MANY = WORK / "many"  # 100,000 files, for the start-up measurement
SMALL = "/img/small.jpg"  # 40 KB
VIDEO = "/video/video.mp4"  # 16 MB
BIG = [f"/video/big-{n}.mp4" for n in range(4)]  # 100 MB each
MANY_FILES = 100_000
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

GET_SMALL = "GET 40 KB image, req/s"
NOT_MODIFIED = "304 revalidation, req/s"
GET_VIDEO = "GET 16 MB video, MiB/s"
RANGE = "GET 1 MB range, req/s"
CPU_GET = "server CPU µs per 40 KB GET"
CPU_304 = "server CPU µs per 304"
MEMORY = "peak RSS growth, 32 x 100 MB, MiB"
STARTUP = "start-up, 100,000 files, s"
ORIGIN = "media-origin"
SHIPPED = f"{ORIGIN} as shipped"
NGINX = "nginx"
NGINX_LOGGING = "nginx with access log"
PYTHON_PEERS = ("starlette", "servestatic")


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

    def start(self, root: Path = ROOT, timeout: float = 60, probe: str | None = "") -> float:
        """Start, wait until ``probe`` is served (None: until the port accepts);
        return the seconds that took."""
        self.port = free_port()
        if self.name.startswith(NGINX):
            write_nginx_config(self.port, root, access_log=self.name == NGINX_LOGGING)
        argv = [part.replace("{PORT}", str(self.port)) for part in self.argv]
        env = {**os.environ, **self.env, "BENCH_ROOT": str(root)}
        if root != ROOT:  # the same server, over the 100,000-file tree
            configs = {
                str(WORK / "config.toml"): "many.toml",
                str(WORK / "shipped.toml"): "many-shipped.toml",
            }
            argv = [str(WORK / configs[part]) if part in configs else part for part in argv]
        if probe == "":
            probe = SMALL if root == ROOT else "/d-00042/f-00123.jpg"
        started = time.monotonic()
        # What a server writes (media-origin's access log) goes to a file, as
        # nginx's does: writing to /dev/null would cost less than it does in use.
        (WORK / "logs").mkdir(exist_ok=True)
        with (WORK / "logs" / f"{self.name.replace(' ', '-')}.log").open("wb") as log:
            self.process = subprocess.Popen(
                argv,
                cwd=REPO,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        while time.monotonic() - started < timeout:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}")
            if probe is None:
                with contextlib.suppress(OSError):
                    socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                    return time.monotonic() - started
            else:
                with (
                    contextlib.suppress(OSError),
                    urllib.request.urlopen(self.url + probe, timeout=5) as response,
                ):
                    response.read()
                    return time.monotonic() - started
            time.sleep(0.01)
        raise RuntimeError(f"{self.name} did not serve within {timeout} s")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()

    def _group(self) -> Iterator[Path]:
        """/proc entries of the server's process group (nginx and granian work in children)."""
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


@contextlib.contextmanager
def running(server: Server, root: Path = ROOT, probe: str | None = "") -> Iterator[float]:
    try:
        yield server.start(root, probe=probe)
    finally:
        server.stop()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prepare_content() -> None:
    for path, size in ((SMALL, 40 * 1024), (VIDEO, 16 * 1024 * 1024)):
        target = ROOT / path.lstrip("/")
        if not target.exists() or target.stat().st_size != size:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(os.urandom(size))
    for path in BIG:
        target = ROOT / path.lstrip("/")
        if not target.exists():
            with target.open("wb") as file:
                file.write(os.urandom(100 * 1024 * 1024))
    policy = '[policy."/"]\ncache_control = "max-age=86400"\n'
    (WORK / "config.toml").write_text(f'[storage]\nroot = "media"\n\n{policy}')
    (WORK / "many.toml").write_text(f'[storage]\nroot = "many"\n\n{policy}')
    # The shipped config.toml as it is, but for the folder it serves.
    shipped = (REPO / "config.toml").read_text()
    for name, root in (("shipped.toml", "media"), ("many-shipped.toml", "many")):
        text = re.sub(r'(?m)^root = "media"', f'root = "{root}"', shipped)
        (WORK / name).write_text(text)
    marker = MANY / f"d-{MANY_FILES // 1000 - 1:05d}" / f"f-{999:05d}.jpg"
    if not marker.exists():
        for folder in range(MANY_FILES // 1000):
            directory = MANY / f"d-{folder:05d}"
            directory.mkdir(parents=True, exist_ok=True)
            for number in range(1000):
                (directory / f"f-{number:05d}.jpg").write_bytes(b"\xff\xd8" + b"x" * 98)


def write_nginx_config(port: int, root: Path, access_log: bool) -> None:
    text = (BENCH / "nginx.conf").read_text()
    log = "access_log off;"
    if access_log:
        log = f"access_log {WORK}/nginx-access.log json buffer=64k flush=1s;"
        (WORK / "nginx-access.log").unlink(missing_ok=True)
    for key, value in (
        ("{ROOT}", str(root)),
        ("{PORT}", str(port)),
        ("{WORK}", str(WORK)),
        ("{ACCESS_LOG}", log),
    ):
        text = text.replace(key, value)
    (WORK / "nginx-tmp").mkdir(parents=True, exist_ok=True)
    (WORK / "nginx.conf").write_text(text)


def contenders() -> list[Server]:
    python = sys.executable
    origin = [python, "-m", "origin", "serve", "--config", str(WORK / "config.toml")]
    found = [
        Server(ORIGIN, [*origin, "--port", "{PORT}"]),
        Server(f"{ORIGIN} --server uvicorn", [*origin, "--server", "uvicorn", "--port", "{PORT}"]),
        Server(f"{ORIGIN} --server granian", [*origin, "--server", "granian", "--port", "{PORT}"]),
    ]
    from origin.cli.parser import DEFAULT_SERVER

    found = [s for s in found if s.name != f"{ORIGIN} --server {DEFAULT_SERVER}"]
    shipped = [python, "-m", "origin", "serve", "--config", str(WORK / "shipped.toml")]
    found.insert(0, Server(SHIPPED, [*shipped, "--port", "{PORT}"]))
    uvicorn = [python, "-m", "uvicorn", "--factory", "--no-access-log", "--log-level", "warning"]
    granian = [python, "-m", "granian", "--interface", "asgi", "--factory", "--no-ws"]
    for peer, factory in (("starlette", "starlette_staticfiles"), ("servestatic", "servestatic")):
        found.append(
            Server(f"{peer}+uvicorn", [*uvicorn, "--port", "{PORT}", f"bench.peers:{factory}"])
        )
        found.append(
            Server(
                f"{peer}+granian",
                [*granian, "--log-level", "warning", "--port", "{PORT}", f"bench.peers:{factory}"],
            )
        )
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if Path(nginx).exists():
        found[:0] = [
            Server(NGINX_LOGGING, [nginx, "-c", str(WORK / "nginx.conf")]),
            Server(NGINX, [nginx, "-c", str(WORK / "nginx.conf")]),
        ]
    return found


def wrk(
    url: str, seconds: int, connections: int, headers: dict[str, str]
) -> tuple[float, int, float]:
    """(requests/s, requests, MiB/s) from one bounded wrk run; non-2xx/3xx fail it."""
    argv = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", url]
    for name, value in headers.items():
        argv[1:1] = ["-H", f"{name}: {value}"]
    output = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 30).stdout
    if "Non-2xx or 3xx responses" in output:
        raise RuntimeError(f"wrk saw errors from {url}:\n{output}")
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    transfer = re.search(r"Transfer/sec:\s+([\d.]+)(\w+)", output)
    scale = {"B": 1 / 2**20, "KB": 1 / 1024, "MB": 1, "GB": 1024}[transfer.group(2)]
    return rate, requests, float(transfer.group(1)) * scale


def etag_of(url: str) -> str:
    request = urllib.request.Request(url, method="HEAD")
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.headers["etag"]


def workloads(server: Server, seconds: int, connections: int) -> dict[str, float]:
    etag = etag_of(server.url + SMALL)
    plan = [
        (GET_SMALL, SMALL, {}, CPU_GET),
        (NOT_MODIFIED, SMALL, {"If-None-Match": etag}, CPU_304),
        (GET_VIDEO, VIDEO, {}, None),
        (RANGE, VIDEO, {"Range": "bytes=1048576-2097151"}, None),
    ]
    results: dict[str, float] = {}
    for name, path, headers, cpu_name in plan:
        cpu_before = server.cpu_seconds()
        rate, requests, throughput = wrk(server.url + path, seconds, connections, headers)
        results[name] = throughput if name == GET_VIDEO else rate
        if cpu_name:
            results[cpu_name] = (server.cpu_seconds() - cpu_before) * 1e6 / max(requests, 1)
    return results


def peak_memory_growth(server: Server, clients: int = 32, limit: float = 20) -> float:
    """MiB of RSS growth while ``clients`` download 100 MB files (at most ``limit`` s)."""
    before = server.rss_kib()
    peak = before
    deadline = time.monotonic() + limit
    errors: list[str] = []

    def download(path: str) -> None:
        try:
            with urllib.request.urlopen(server.url + path, timeout=60) as response:
                while response.read(1 << 20) and time.monotonic() < deadline:
                    pass
        except OSError as error:
            errors.append(str(error))

    threads = [threading.Thread(target=download, args=(BIG[n % len(BIG)],)) for n in range(clients)]
    for thread in threads:
        thread.start()
    while any(t.is_alive() for t in threads) and time.monotonic() < deadline + 5:
        peak = max(peak, server.rss_kib())
        time.sleep(0.02)
    for thread in threads:
        thread.join(timeout=10)
    if errors:
        raise RuntimeError(f"{server.name}: downloads failed: {errors[0]}")
    return (peak - before) / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=5, help="per wrk run")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--only", help="comma-separated server names to run (default: all)")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        print("bench: wrk is needed (Debian: apt-get install wrk)", file=sys.stderr)
        return 2
    print("bench: preparing content (first run: 100,000 small files)", file=sys.stderr)
    prepare_content()
    servers = contenders()
    if args.only:
        wanted = set(args.only.split(","))
        servers = [s for s in servers if s.name in wanted]
    results: dict[str, dict[str, list[float]]] = {s.name: {} for s in servers}
    for round_number in range(1, args.rounds + 1):
        for server in servers if round_number % 2 else servers[::-1]:
            print(f"bench: round {round_number}: {server.name}", file=sys.stderr, flush=True)
            figures = results[server.name]
            if round_number == 1:
                with running(server, MANY) as seconds:
                    figures[STARTUP] = [seconds]
                with running(server):
                    figures[MEMORY] = [peak_memory_growth(server)]
            with running(server):
                for name, value in workloads(server, args.seconds, args.connections).items():
                    figures.setdefault(name, []).append(value)
    medians = {
        name: {key: statistics.median(values) for key, values in figures.items()}
        for name, figures in results.items()
    }
    report = format_report(medians, args)
    print(report)
    (BENCH / "results.md").write_text(report + "\n")
    plot(medians, BENCH / "results.png")
    return 0


ROWS = [GET_SMALL, NOT_MODIFIED, GET_VIDEO, RANGE, CPU_GET, CPU_304, MEMORY, STARTUP]


def format_report(medians: dict[str, dict[str, float]], args: argparse.Namespace) -> str:
    names = list(medians)
    lines = [
        f"Medians of {args.rounds} rounds; wrk -t2 -c{args.connections} -d{args.seconds}s on "
        f"127.0.0.1; {os.cpu_count()} cores; one worker each; `python bench/run.py`.",
        "",
        "| workload | " + " | ".join(names) + " |",
        "|---|" + "---:|" * len(names),
    ]
    for row in ROWS:
        cells = []
        for name in names:
            value = medians[name].get(row)
            digits = 1 if row in (MEMORY, STARTUP) else 0
            cells.append("—" if value is None else f"{value:,.{digits}f}")
        lines.append(f"| {row} | " + " | ".join(cells) + " |")
    lines += ["", *check_targets(medians)]
    return "\n".join(lines)


def check_targets(medians: dict[str, dict[str, float]]) -> list[str]:
    """The targets, as ratios measured in this run: media-origin as shipped (access
    log and metrics on) against nginx with its access log and the Python peers."""
    ours = medians.get(SHIPPED)
    if ours is None:
        return []
    nginx = medians.get(NGINX_LOGGING, {})
    python_304 = [
        (m[NOT_MODIFIED], n)
        for n, m in medians.items()
        if n.startswith(PYTHON_PEERS) and NOT_MODIFIED in m
    ]
    best_304, best_name = max(python_304, default=(None, ""))
    ratios = [
        (GET_SMALL, NGINX_LOGGING, nginx.get(GET_SMALL), ">=", 0.4),
        (
            GET_SMALL,
            "starlette+uvicorn",
            medians.get("starlette+uvicorn", {}).get(GET_SMALL),
            ">=",
            10,
        ),
        (CPU_GET, NGINX_LOGGING, nginx.get(CPU_GET), "<=", 4),
        (NOT_MODIFIED, NGINX_LOGGING, nginx.get(NOT_MODIFIED), ">=", 0.35),
        (NOT_MODIFIED, f"best Python peer ({best_name})", best_304, ">=", 1.3),
        (GET_VIDEO, NGINX_LOGGING, nginx.get(GET_VIDEO), ">=", 0.9),
        (RANGE, NGINX_LOGGING, nginx.get(RANGE), ">=", 0.3),
    ]
    lines = [
        f"Targets for {SHIPPED}:",
        "",
        "| target | measured | met |",
        "|---|---:|:---:|",
    ]
    for row, peer, theirs, sense, goal in ratios:
        if theirs and row in ours:
            lines.append(
                _target_line(
                    f"{row}: {sense} {goal} x {peer}", ours[row] / theirs, sense, goal, "x"
                )
            )
    quiet = medians.get(ORIGIN, {})
    for row in (CPU_GET, CPU_304):
        # What logging and metrics add to a request, in situ: the same server with both off.
        if row in ours and row in quiet:
            label = f"access log + metrics, {row.removeprefix('server ')}: <= 5"
            lines.append(_target_line(label, ours[row] - quiet[row], "<=", 5, "µs"))
    if MEMORY in ours:
        lines.append(_target_line(f"{MEMORY}: < 64", ours[MEMORY], "<", 64, "MiB"))
    if STARTUP in ours:
        lines.append(_target_line(f"{STARTUP}: < 2", ours[STARTUP], "<", 2, "s"))
    return lines


def _target_line(label: str, value: float, sense: str, goal: float, unit: str) -> str:
    met = {">=": value >= goal, "<=": value <= goal, "<": value < goal}[sense]
    return f"| {label} | {value:.2f} {unit} | {'yes' if met else 'NO'} |"


def plot(medians: dict[str, dict[str, float]], path: Path) -> None:
    """Each server's figure relative to nginx's (nginx = 1), one group per workload."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("bench: matplotlib missing (pip install -e '.[bench]'): no plot", file=sys.stderr)
        return
    rows = [GET_SMALL, NOT_MODIFIED, GET_VIDEO, RANGE]
    reference = medians.get(NGINX) or next(iter(medians.values()))
    names = list(medians)
    figure, axes = plt.subplots(figsize=(11, 5))
    width = 0.8 / len(names)
    for index, name in enumerate(names):
        ratios = [medians[name].get(row, 0) / reference[row] for row in rows]
        axes.bar([r + index * width for r in range(len(rows))], ratios, width, label=name)
    axes.set_xticks([r + 0.4 - width / 2 for r in range(len(rows))], rows)
    axes.set_yscale("log")
    axes.set_ylabel("relative to nginx (log scale)")
    axes.axhline(1, color="black", linewidth=0.8)
    axes.set_title("media-origin and Python file servers against nginx, one worker, 2 cores")
    axes.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)


if __name__ == "__main__":
    sys.exit(main())
