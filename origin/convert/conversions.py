"""One file converted into what WhatsApp accepts: the target chosen, the file
probed, the recipe planned and run in a guarded child, and what came out checked
by the same rules as ``media-origin check`` before anyone may publish it.

``Converter`` is what the upload API and ``media-origin convert`` share. It
bounds how many conversions run at once (``[convert] workers``), gives each its
own folder in a work area that nothing outlives, and never blocks the event
loop: every decoding and encoding happens in a child process.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from origin.config import ConvertConfig
from origin.convert.pictures import convert_picture
from origin.convert.processes import Limits
from origin.convert.tools import ConversionFailed, find_tools, probe, read_back, transcode
from origin.whatsapp.inspection import inspect_file
from origin.whatsapp.media_facts import MediaFacts
from origin.whatsapp.problems import ERROR, Report, extension_of, format_size
from origin.whatsapp.recipes import (
    PICTURE_EXTENSIONS,
    Plan,
    Target,
    Unconvertible,
    already_fine,
    choose_target,
    converted_name,
    plan_audio,
    plan_video,
)
from origin.whatsapp.rules import rule_for_name
from storage.uploads import WorkArea

logger = logging.getLogger("media_origin")

WORK_AREA = Path(tempfile.gettempdir()) / "media-origin-conversions"
RETRY_SHRINK = (0.8, 0.65)  # an encode over the limit is tried again aiming lower
Chosen = TypeVar("Chosen", Target, Plan)
Progress = Callable[[str, int], None]  # (state, percent): "queued" or "running"


@dataclass(frozen=True, slots=True)
class Converted:
    """What a conversion made: a file in its work folder, not yet stored."""

    output: Path
    name: str  # the path it is stored under: the original's, with the new extension
    whatsapp_type: str
    source: dict[str, object]
    result: dict[str, object]
    steps: tuple[str, ...]
    report: Report  # the output's check: nothing of level error

    def to_json(self) -> dict[str, object]:
        return {"from": self.source, "to": self.result, "steps": list(self.steps)}


class Converter:
    def __init__(self, config: ConvertConfig, area: WorkArea | None = None) -> None:
        self.config = config
        self.tools = find_tools(config.ffmpeg, config.ffprobe)
        self.area = area or WorkArea(WORK_AREA)
        self._slots = asyncio.Semaphore(config.concurrency)
        self.limits = Limits(
            seconds=config.timeout,
            cpu_seconds=int(config.timeout * 2) + 1,
            memory_bytes=config.memory_mb * 2**20,
            cpus=config.cpus,
        )

    def close(self) -> None:
        self.area.close()

    async def convert(
        self,
        source: Path,
        name: str,
        report: Report,
        asked: str | None,
        folder_as: str | None,
        progress: Progress,
    ) -> Converted | None:
        """``source`` (checked as ``report``) made into what WhatsApp takes under a
        name like ``name``; None when it already is (nothing to do). Raises
        ConversionFailed with the reason, never leaving a file of its own behind."""
        rule = rule_for_name(name)
        if rule is not None and rule.whatsapp_type == "document":
            if asked is not None:
                raise ConversionFailed(
                    "not_convertible", "documents are never converted; send it as it is"
                )
            return None
        if asked is None and folder_as is None and report.verdict == "ok":
            return None
        picture = extension_of(name) in PICTURE_EXTENSIONS
        if not picture and self.tools.missing is not None:
            raise ConversionFailed("converter_unavailable", self.tools.missing, status=503)
        progress("queued", 0)
        async with self._slots:
            progress("running", 0)
            work = await asyncio.to_thread(self.area.new_folder)
            try:
                return await self._convert_in(
                    work, source, name, report, asked, folder_as, picture, progress
                )
            except BaseException:
                shutil.rmtree(work, ignore_errors=True)
                raise

    def finished_with(self, converted: Converted) -> None:
        """The caller has stored (or dropped) the output: its folder goes."""
        shutil.rmtree(converted.output.parent, ignore_errors=True)

    async def _convert_in(
        self,
        work: Path,
        source: Path,
        name: str,
        report: Report,
        asked: str | None,
        folder_as: str | None,
        picture: bool,
        progress: Progress,
    ) -> Converted | None:
        if picture:
            target = _chosen(choose_target("picture", asked, folder_as))
            if already_fine(report, target):
                return None
            made = await convert_picture(
                source, work, target.name, self.limits, self.config.max_pixels
            )
            output, source_facts, result, steps = (
                made.output,
                made.source_facts,
                made.output_facts,
                made.steps,
            )
            source_facts["type"] = report.whatsapp_type or "image"
        else:
            facts = await probe(self.tools, source, self.limits, name)
            kind = "video" if facts.video is not None else "audio"
            target = _chosen(choose_target(kind, asked, folder_as, self.config.audio))
            if already_fine(report, target):
                return None
            self._check_duration(facts)
            output, plan = await self._transcode(work, source, facts, target, progress)
            made_facts = await read_back(self.tools, output, self.limits)
            source_facts = facts.describe(report.whatsapp_type or kind)
            result = made_facts.describe(target.whatsapp_type)
            steps = plan.steps
        new_name = converted_name(name, output.suffix)
        checked = await asyncio.to_thread(inspect_file, output, new_name)
        errors = [problem for problem in checked.problems if problem.level == ERROR]
        if errors:
            logger.error(
                "conversion of %s made a file that breaks a rule: %s",
                name,
                "; ".join(problem.message for problem in errors),
            )
            raise ConversionFailed(
                "conversion_incomplete",
                f"the converted file still breaks a rule ({errors[0].message}); this is a bug "
                "in media-origin's recipes, and was logged: send the file converted by hand",
            )
        progress("running", 100)
        return Converted(
            output, new_name, target.whatsapp_type, source_facts, result, tuple(steps), checked
        )

    def _check_duration(self, facts: MediaFacts) -> None:
        if facts.duration is not None and facts.duration > self.config.max_duration:
            raise ConversionFailed(
                "too_long",
                f"the file lasts {facts.duration / 60:.0f} minutes; conversions here take at "
                f"most {self.config.max_duration / 60:g} ([convert] max_duration): trim it",
            )

    async def _transcode(
        self, work: Path, source: Path, facts: MediaFacts, target: Target, progress: Progress
    ) -> tuple[Path, Plan]:
        output = work / f"converted{target.extension}"
        for shrink in (1.0, *RETRY_SHRINK):
            plan = _chosen(
                plan_video(facts, target, shrink)
                if target.whatsapp_type == "video"
                else plan_audio(facts, target)
            )
            await transcode(
                self.tools,
                source,
                output,
                plan,
                facts.duration,
                self.limits,
                lambda percent: progress("running", percent),
            )
            size = output.stat().st_size
            if size <= target.max_bytes or not plan.encodes or target.whatsapp_type != "video":
                return output, plan
            over = (format_size(size), format_size(target.max_bytes))
            logger.warning(
                "conversion of %s came out at %s, over %s: aiming lower", source.name, *over
            )
        return output, plan  # still over: the check refuses it, and says so


def _chosen(decision: Chosen | Unconvertible) -> Chosen:
    """A recipe's decision, or its refusal raised as the one error conversions raise."""
    if isinstance(decision, Unconvertible):
        raise ConversionFailed(decision.code, decision.message)
    return decision
