"""A made-up catalog large enough to page (issue #11), written for the browse tests.

- `oldconf-2015`: an archive event of one day, no times (pyvideo-like): 60 talks, YouTube
  recordings with durations and posters; listed by title, in two pages.
- `multiconf-2019`: three days, two rooms (sessions) a day, timed talks with store recordings
  (`multiconf-2019/<slug>.mp4`; the tests put some in the media folder, the rest play the
  placeholder).
- `prolific`: a speaker with a photo and a long bio, live in 50 talks and in the recording of
  10 more; `shy` (no photo) presents the others and appears in those 10.
"""

from __future__ import annotations

from pathlib import Path

OLD = "oldconf-2015"
MULTI = "multiconf-2019"
OLD_TALKS = 60
DAYS = ("2019-05-03", "2019-05-04", "2019-05-05")
ROOMS = ("Room A", "Room B")
PER_ROOM = 3  # talks per room per day
PROLIFIC_BIO = " ".join(["Builds conference tools and talks about them at length."] * 14)
# Made-up YouTube ids: 11 characters of the allowed alphabet.
VIDEO_IDS = [f"vid{n:08d}" for n in range(OLD_TALKS)]


def old_slug(n: int) -> str:
    return f"old-talk-{n:02d}"


def multi_slug(day: int, room: int, n: int) -> str:
    return f"multi-d{day}-r{room}-t{n}"


def write_catalog(folder: Path) -> Path:
    """Write the catalog files into `folder` and return it."""
    folder.mkdir(parents=True, exist_ok=True)
    old = [
        "event:",
        f"  slug: {OLD}",
        "  name: Old Conf 2015",
        "  start_date: 2015-03-01",
        "  timezone: UTC",
        "talks:",
    ]
    # Titles in reverse alphabetical order of the file: "listed by title" must sort them.
    for n in range(OLD_TALKS):
        title = f"{chr(ord('Z') - n % 26)}{n:02d} talk about testing"
        live = "[prolific]" if n < 50 else "[shy]"
        recording_speakers = "" if n < 50 else "\n    recording_speakers: [shy, prolific]"
        old += [
            f"  - slug: {old_slug(n)}",
            f"    title: {title}",
            "    date: 2015-03-01",
            f"    speakers: {live}{recording_speakers}",
            "    recording:",
            f"      url: https://www.youtube.com/watch?v={VIDEO_IDS[n]}",
            f"      duration: {600 + n * 60}",
            f"      poster: https://i.ytimg.com/vi/{VIDEO_IDS[n]}/maxresdefault.jpg",
        ]
    (folder / f"{OLD}.yaml").write_text("\n".join(old) + "\n", encoding="utf-8")
    multi = [
        "event:",
        f"  slug: {MULTI}",
        "  name: Multi Conf 2019",
        f"  start_date: {DAYS[0]}",
        f"  end_date: {DAYS[-1]}",
        "  timezone: Europe/Berlin",
        "talks:",
    ]
    for d, day in enumerate(DAYS):
        # Rooms interleave in time (parallel tracks); written Room B first to test the order.
        for r in reversed(range(len(ROOMS))):
            for n in range(PER_ROOM):
                multi += [
                    f"  - slug: {multi_slug(d, r, n)}",
                    f"    title: Day {d + 1} {ROOMS[r]} talk {n + 1}",
                    f"    session: {ROOMS[r]}",
                    f'    start: "{day} {9 + n:02d}:{r * 10:02d}"',
                    f'    end: "{day} {9 + n:02d}:{r * 10 + 30:02d}"',
                    "    speakers: [shy]",
                ]
    (folder / f"{MULTI}.yaml").write_text("\n".join(multi) + "\n", encoding="utf-8")
    speakers = [
        "speakers:",
        "  - slug: prolific",
        "    name: Pat Prolific",
        "    company: Example Org",
        "    photo: https://images.example.org/pat.jpg",
        f"    bio: {PROLIFIC_BIO}",
        "  - slug: shy",
        "    name: Sam Shy",
    ]
    (folder / "speakers.yaml").write_text("\n".join(speakers) + "\n", encoding="utf-8")
    return folder
