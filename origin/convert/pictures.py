"""A picture converted in the guarded child (``picture_worker``): the parent's
side, which only starts it and reads its answer."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, replace
from pathlib import Path

from origin.convert.processes import Limits, run
from origin.convert.tools import ConversionFailed, raise_for


@dataclass(frozen=True, slots=True)
class PictureResult:
    output: Path
    source_facts: dict[str, object]
    output_facts: dict[str, object]
    steps: tuple[str, ...]


async def convert_picture(
    source: Path, work: Path, target: str, limits: Limits, max_pixels: int
) -> PictureResult:
    task = {
        "source": str(source),
        "output_stem": str(work / "converted"),
        "target": target,
        "max_pixels": max_pixels,
    }
    argv = [sys.executable, "-m", "origin.convert.picture_worker"]
    finished = await run(argv, limits, work, stdin=json.dumps(task).encode())
    try:
        answer = json.loads(finished.stdout) if finished.stdout else {}
    except ValueError:
        answer = {}
    if answer.get("error") == "conversion_memory":
        finished = replace(finished, out_of_memory=True)
    raise_for(finished, "convert", limits, "Pillow")
    if "error" in answer:
        raise ConversionFailed(answer["error"], answer["message"])
    if "output" not in answer:
        raise ConversionFailed("conversion_failed", "the picture converter gave no answer")
    return PictureResult(
        Path(answer["output"]), answer["from"], answer["to"], tuple(answer["steps"])
    )
