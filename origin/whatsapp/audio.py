"""The checks of audio, by extension: M4A as an MP4 box, Ogg as Opus in mono,
MP3 and AAC (ADTS) as a stream mutagen reads, AMR by its frames.

Each file is first judged whole, M4A by its boxes and the others by their pages
or frames (``audio_framing``): a cut file is the whole story, and is said as
such rather than as whatever a reader makes of its missing end. Then the codec
is read. mutagen is imported when an Ogg, MP3 or AAC file is first read, not
with this module.
"""

from __future__ import annotations

from pathlib import Path

from origin.whatsapp.audio_framing import frames_cut, ogg_cut
from origin.whatsapp.problems import ERROR, Problem, Report, base_name, extension_of
from origin.whatsapp.rules import MediaRule
from origin.whatsapp.video import audio_track_problems, read_whole_movie


def inspect_audio(file: Path, rule: MediaRule, report: Report) -> list[Problem]:
    """Dispatch on the extension, which ``inspect_file`` has matched to the bytes."""
    extension = extension_of(report.path)
    if extension == ".m4a":
        movie, problem = read_whole_movie(file)
        if movie is None:
            return [problem]
        return audio_track_problems(movie.handlers("soun"), False, report.path)
    if extension in (".ogg", ".opus"):
        return _ogg(file, report.path)
    if extension in (".mp3", ".aac"):
        return frames_cut(file, extension) or _mutagen_readable(file, extension)
    return frames_cut(file, extension)  # .amr: its signature, and its frames


def _ogg(file: Path, name: str = "") -> list[Problem]:
    """The pages first (a cut one is the whole story), then mutagen on the codec.

    A last page without the end-of-stream flag is only a warning (a file cut on
    a page boundary looks the same as one whose writer forgot the flag): said
    alone or after a channel count, and dropped when the codec is not Opus at all.

    mutagen raises its own errors and, on hostile bytes, also struct.error,
    IndexError, ValueError...: any of them means the file is unreadable.
    """
    import mutagen
    from mutagen.oggopus import OggOpus

    cut = ogg_cut(file)
    if cut is not None and cut.level == ERROR:
        return [cut]
    ended = [cut] if cut is not None else []
    src = base_name(name) or "voice.ogg"
    try:
        audio = mutagen.File(file)
    except Exception as error:  # see the docstring
        return [
            Problem(
                "unreadable",
                ERROR,
                f"mutagen cannot read this Ogg file: {error}; export it again as Ogg/Opus",
            )
        ]
    if not isinstance(audio, OggOpus):
        codec = type(audio).__name__.removeprefix("Ogg") if audio is not None else "unknown"
        return [
            Problem(
                "ogg_not_opus",
                ERROR,
                f"Ogg audio is {codec}; WhatsApp takes only Opus in Ogg: re-encode it, e.g. "
                f"ffmpeg -i {src} -c:a libopus -ac 1 opus-{src}",
            )
        ]
    if audio.info.channels != 1:
        return [
            Problem(
                "ogg_channels",
                ERROR,
                f"Opus audio has {audio.info.channels} channels; WhatsApp takes mono input only: "
                f"ffmpeg -i {src} -c:a libopus -ac 1 mono-{src}",
            ),
            *ended,
        ]
    return ended


def _mutagen_readable(file: Path, extension: str) -> list[Problem]:
    """Whether mutagen finds an MP3 or ADTS stream at all: the frame walk judges
    only cuts, and says nothing of bytes that are no frames."""
    from mutagen.aac import AAC
    from mutagen.mp3 import MP3

    reader = MP3 if extension == ".mp3" else AAC
    try:
        reader(file)
    except Exception as error:  # MutagenError, and on hostile bytes struct.error, ...
        kind = extension[1:].upper()
        return [
            Problem(
                "unreadable", ERROR, f"no valid {kind} stream: {error}; export it again as {kind}"
            )
        ]
    return []
