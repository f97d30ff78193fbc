"""What conversion costs, measured against plain ffmpeg in the same run.

1. Overhead: the product's conversion of a file (ffprobe, the recipe's ffmpeg
   run in a guarded child, the output read back and checked by the rules)
   against the bare command lines of the same recipe: the ffprobe that a recipe
   needs to be chosen (which streams to copy, a bitrate from the duration) and
   the ffmpeg that runs it. Alternated, median of the rounds. Target: at most
   10 % more wall time. Here conversions may use every core, as plain ffmpeg
   does ([convert] serving_cores = 0); the video is also timed with the default
   (one core kept for serving), which is the price of the second target.
2. Serving while converting: p99 latency of a 40 KB GET (wrk, 4 connections)
   with the server idle, then while it runs two video conversions at once
   ([convert] workers = 2, the default serving_cores = 1), each the median of
   the rounds' windows. Target: within 2 x the idle p99.

    python bench/convert.py [--rounds 3] [--seconds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.run import WORK, Server, prepare_content, running
from origin.config import ConvertConfig
from origin.convert.conversions import Converter
from origin.convert.tools import probe
from origin.whatsapp.inspection import inspect_file
from origin.whatsapp.recipes import TARGETS, plan_audio, plan_video

TOKEN = "bench-token"
SMALL = "/img/small.jpg"


VIDEO = (
    "-f lavfi -i testsrc2=size=640x360:rate=30 -f lavfi -i sine=f=300 -t {seconds} "
    "-c:v libx264 -profile:v high -bf 3 -pix_fmt yuv420p -c:a aac"
)
VOICE = "-f lavfi -i sine=f=300 -t {seconds} -ac 2 -c:a libopus"


def made(folder: Path, name: str, recipe: str, seconds: int) -> Path:
    """An input made once by ffmpeg and kept in bench/work for the next run."""
    folder.mkdir(parents=True, exist_ok=True)
    file = folder / name
    if not file.exists():
        options = recipe.format(seconds=seconds).split()
        subprocess.run(["ffmpeg", "-v", "error", "-y", *options, str(file)], check=True)
    return file


def inputs(folder: Path) -> dict[str, Path]:
    """A phone's video (High profile with B-frames, 30 s of 640x360) and a
    browser's voice note (stereo WebM/Opus, 60 s): the two recipes most used;
    and a longer video (180 s) that keeps two conversions busy while the GETs
    are timed."""
    return {
        "video": made(folder, "phone.mp4", VIDEO, 30),
        "voice": made(folder, "note.webm", VOICE, 60),
        "long": made(folder, "long.mp4", VIDEO, 180),
    }


def plain_ffmpeg(source: Path, options: tuple[str, ...], output: Path) -> float:
    started = time.monotonic()
    subprocess.run(
        ["ffprobe", "-v", "error", "-of", "json", "-show_format", "-show_streams", source],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(source), *options, str(output)],
        check=True,
    )
    return time.monotonic() - started


async def product(converter: Converter, source: Path, name: str, asked: str) -> float:
    started = time.monotonic()
    report = await asyncio.to_thread(inspect_file, source, name)
    converted = await converter.convert(source, name, report, asked, None, lambda *_: None)
    elapsed = time.monotonic() - started
    converter.finished_with(converted)
    return elapsed


def overhead(rounds: int) -> dict[str, tuple[float, float]]:
    """{recipe: (median plain seconds, median product seconds)}."""
    files = inputs(WORK / "convert")
    converter = Converter(ConvertConfig(serving_cores=0))  # every core, as plain ffmpeg has
    out = Path(tempfile.mkdtemp())
    results = {}
    try:
        for kind, source, name, asked in (
            ("video", files["video"], "/v/phone.mp4", "video"),
            ("voice", files["voice"], "/v/note.webm", "voice"),
        ):
            facts = asyncio.run(probe(converter.tools, source, converter.limits, name))
            plan = (
                plan_video(facts, TARGETS["video"])
                if kind == "video"
                else plan_audio(facts, TARGETS["voice"])
            )
            plain, ours = [], []
            for _ in range(rounds):
                plain.append(plain_ffmpeg(source, plan.options, out / f"x{plan.target.extension}"))
                ours.append(asyncio.run(product(converter, source, name, asked)))
            results[kind] = (statistics.median(plain), statistics.median(ours))
        kept = Converter(ConvertConfig())
        try:
            timed = [
                asyncio.run(product(kept, files["video"], "/v/phone.mp4", "video"))
                for _ in range(rounds)
            ]
        finally:
            kept.close()
        kept_row = (results["video"][0], statistics.median(timed))
        results["video, one core kept for serving"] = kept_row
    finally:
        converter.close()
        shutil.rmtree(out, ignore_errors=True)
    return results


def p99_ms(url: str, seconds: int) -> float:
    output = subprocess.run(
        ["wrk", "-t1", "-c4", f"-d{seconds}s", "--latency", url],
        capture_output=True,
        text=True,
        timeout=seconds + 30,
    ).stdout
    match = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", output)
    if match is None:
        raise RuntimeError(f"no p99 in wrk's output:\n{output}")
    return float(match.group(1)) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[match.group(2)]


def latency_while_converting(seconds: int, windows: int) -> tuple[float, float, int]:
    """(idle p99 ms, p99 ms with two conversions running, conversions still running
    at the end): each the median of ``windows`` wrk runs, since one p99 over a few
    seconds on a shared two-core machine moves by half from run to run."""
    prepare_content()
    video = inputs(WORK / "convert")["long"].read_bytes()
    config = WORK / "convert.toml"
    config.write_text(
        f'[storage]\nroot = "{WORK / "media"}"\n[api]\ntoken_env = "BENCH_TOKEN"\n'
        '[convert]\nworkers = 2\njob_after = 0.1\n[policy."/converted"]\nconvert = true\n'
    )
    server = Server(
        "media-origin converting",
        [sys.executable, "-m", "origin", "serve", "--config", str(config), "--port", "{PORT}"],
        env={"BENCH_TOKEN": TOKEN},
    )
    auth = {"Authorization": f"Bearer {TOKEN}"}
    with running(server):
        url = server.url + SMALL
        p99_ms(url, 2)  # warm-up
        idle = statistics.median(p99_ms(url, seconds) for _ in range(windows))
        jobs = []
        for n in range(2):
            answer = httpx.put(
                f"{server.url}/converted/c{n}-{time.time_ns()}.mp4",
                content=video,
                headers=auth,
                timeout=60,
                params={"as": "video"},
            )
            jobs.append(answer.headers["location"])
        time.sleep(0.5)  # both past their probe, encoding
        busy = statistics.median(p99_ms(url, seconds) for _ in range(windows))
        states = [httpx.get(server.url + job, headers=auth).json()["state"] for job in jobs]
        running_at_end = sum(state in ("queued", "running") for state in states)
    shutil.rmtree(WORK / "media" / "converted", ignore_errors=True)
    return idle, busy, running_at_end


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=5)
    args = parser.parse_args()
    if shutil.which("ffmpeg") is None or shutil.which("wrk") is None:
        print("bench/convert.py needs ffmpeg and wrk (apt-get install ffmpeg wrk)")
        return 2
    lines = [
        "| recipe | plain ffmpeg, s | media-origin, s | overhead | target ≤ 10 % |",
        "|---|---|---|---|---|",
    ]
    for kind, (plain, ours) in overhead(args.rounds).items():
        share = ours / plain - 1
        verdict = "met" if share <= 0.10 else "not met"
        if kind.startswith("video, "):
            verdict = "(the default: for the GET target)"
        lines.append(f"| {kind} | {plain:.2f} | {ours:.2f} | {share:+.1%} | {verdict} |")
    idle, busy, still = latency_while_converting(args.seconds, args.rounds)
    ratio = busy / idle
    lines += [
        "",
        "| 40 KB GET, p99 | idle | 2 video conversions running | ratio | target ≤ 2 x |",
        "|---|---|---|---|---|",
        f"| wrk -c4, {args.seconds} s | {idle:.2f} ms | {busy:.2f} ms | {ratio:.2f} x | "
        f"{'met' if ratio <= 2 else 'not met'} |",
        f"(conversions still running when the busy window ended: {still} of 2)",
    ]
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
