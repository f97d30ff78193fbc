"""The checks of MP4 and 3GP video (and of the M4A audio box), read by the
ISO-BMFF box reader: whole, then its tracks, then its layout.

A file is judged whole before its tracks: a cut one (a box, or a track's
samples, running past its end) is the whole story, since its tracks would be
read from a moov that may be the one part that arrived.
"""

from __future__ import annotations

from pathlib import Path

from origin.whatsapp.isobmff import Movie, NotISOBMFF, Track, Truncated, read_movie
from origin.whatsapp.problems import (
    ERROR,
    INFO,
    WARNING,
    Problem,
    Report,
    base_name,
    truncated,
)
from origin.whatsapp.rules import MediaRule, command_for

H264_PROFILES = {66: "Baseline", 77: "Main", 88: "Extended", 100: "High", 110: "High 10"}
H264_HIGH = 100  # AVCProfileIndication of High, and of every profile above it
H264_SAMPLE_ENTRIES = ("avc1", "avc3")
# esds objectTypeIndication: MPEG-4 AAC, and MPEG-2 AAC Main, LC and SSR.
AAC_OBJECT_TYPES = (0x40, 0x66, 0x67, 0x68)


def inspect_video(file: Path, rule: MediaRule, report: Report) -> list[Problem]:
    """The file whole, then each video track, the audio tracks, and where moov is."""
    movie, problem = read_whole_movie(file)
    if movie is None:
        return [problem]
    if movie.fragmented:
        return [Problem("check_skipped", INFO, "fragmented MP4: tracks were not inspected")]
    videos = movie.handlers("vide")
    problems = [] if videos else [_no_video_track()]
    for track in videos:
        problems += _video_track_problems(track, report.path)
    problems += audio_track_problems(movie.handlers("soun"), allow_none=True, name=report.path)
    if movie.moov_before_mdat is False:
        problems.append(
            Problem(
                "moov_after_mdat",
                WARNING,
                "the moov box comes after mdat; Meta asks for moov first "
                "(ffmpeg -movflags +faststart)",
            )
        )
    return problems


def read_whole_movie(file: Path) -> tuple[Movie, None] | tuple[None, Problem]:
    """The movie, or the one problem that stops it being read: cut, or unreadable."""
    try:
        with file.open("rb") as handle:
            movie = read_movie(handle)
    except Truncated as cut:
        return None, truncated(str(cut))
    except NotISOBMFF as error:
        return None, Problem(
            "unreadable",
            ERROR,
            f"not a readable MP4/3GP file: {error}; export it again as MP4 (H.264 and AAC)",
        )
    if "mdat" in movie.top_level and "moov" not in movie.top_level:
        return None, truncated(
            "the file has media data (mdat) but no moov box, which a writer puts last unless "
            "told -movflags +faststart"
        )
    for track in movie.tracks:
        if track.data_end is not None and track.data_end > movie.size:
            return None, truncated(
                f"the samples of its {track.handler} track run to byte {track.data_end:,} but "
                f"the file ends at byte {movie.size:,}"
            )
    return movie, None


def _no_video_track() -> Problem:
    return Problem(
        "no_video_track",
        ERROR,
        "the file has no video track: send sound alone as audio (.m4a, or Ogg/Opus)",
    )


def _video_track_problems(track: Track, path: str) -> list[Problem]:
    """H.264 only; and, since Android WhatsApp fails on B-frames, neither High
    profile nor composition offsets."""
    if track.codec not in H264_SAMPLE_ENTRIES:
        return [
            Problem(
                "video_codec",
                ERROR,
                f"video codec is {track.codec}; WhatsApp plays only H.264 video: "
                f"re-encode it, e.g. {command_for('video', path)}",
            )
        ]
    problems = []
    profile = H264_PROFILES.get(track.h264_profile, f"profile {track.h264_profile}")
    if track.h264_profile is not None and track.h264_profile >= H264_HIGH:
        problems.append(
            Problem(
                "h264_high_profile",
                WARNING,
                f"H.264 {profile} profile; Android WhatsApp does not support High profile "
                "with B-frames: use Main without B-frames, or Baseline: "
                f"{command_for('video', path)}",
            )
        )
    if track.has_composition_offsets:
        problems.append(
            Problem(
                "b_frames",
                WARNING,
                f"the H.264 {profile} stream has B-frames (composition offsets); Android "
                "WhatsApp may not play it: encode with -bf 0",
            )
        )
    return problems


def audio_track_problems(audios: list[Track], allow_none: bool, name: str = "") -> list[Problem]:
    """At most one audio track, AAC; none at all only where ``allow_none`` (a
    video may be silent, an M4A may not)."""
    problems = []
    src = base_name(name) or "IN"
    if len(audios) > 1:
        problems.append(
            Problem(
                "audio_tracks",
                ERROR,
                f"{len(audios)} audio tracks; WhatsApp takes one audio stream or none: keep "
                f"one, e.g. ffmpeg -i {src} -map 0:v? -map 0:a:0 -c copy one-audio-{src}",
            )
        )
    if not audios and not allow_none:
        problems.append(
            Problem(
                "no_audio_track",
                ERROR,
                "the file has no audio track: an audio file needs sound; send a silent video "
                "as .mp4",
            )
        )
    for track in audios:
        if track.codec != "mp4a" or track.audio_object_type not in AAC_OBJECT_TYPES:
            codec = track.codec if track.codec != "mp4a" else f"mp4a/{track.audio_object_type}"
            problems.append(
                Problem(
                    "audio_codec",
                    ERROR,
                    f"audio codec is {codec}; WhatsApp takes only AAC: re-encode the sound, "
                    f"e.g. ffmpeg -i {src} -c:v copy -c:a aac aac-{src}",
                )
            )
    return problems
