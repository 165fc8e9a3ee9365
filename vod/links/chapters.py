"""A recording's chapters as a WebVTT `chapters` track, for the player."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from vod.catalog import Talk

# When neither the recording nor the slot says how long a talk is, the last chapter runs this
# long: a cue needs an end, and players only use it to say which chapter is playing.
OPEN_END = 3600


def vtt_time(seconds: int) -> str:
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.000"


def _cue_text(title: str) -> str:
    # Cue text is markup in WebVTT: escape it, keep it on one line, and never write "-->".
    text = " ".join(title.split()).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text or "Chapter"


def chapters_vtt(talk: Talk) -> str:
    """Return the WebVTT chapters track of a talk: one cue per chapter, in order."""
    chapters = talk.recording.chapters
    end_of_talk = talk.duration or 0
    lines = ["WEBVTT", ""]
    for i, chapter in enumerate(chapters):
        if i + 1 < len(chapters):
            end = chapters[i + 1].start
        else:
            end = end_of_talk if end_of_talk > chapter.start else chapter.start + OPEN_END
        end = max(end, chapter.start + 1)  # two chapters at one moment: the first lasts 1 s
        lines += [
            f"chapter-{i + 1}",
            f"{vtt_time(chapter.start)} --> {vtt_time(end)}",
            _cue_text(chapter.title),
            "",
        ]
    return "\n".join(lines)
