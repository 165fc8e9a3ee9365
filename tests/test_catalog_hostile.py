"""Catalog files a careless or hostile author wrote: aliases, symlinks out, do_not_record."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from test_catalog_loader import EVENT, SPEAKERS, located, only, write

from vod.catalog import Recording, catalog_cache_dir, validate_catalog, validate_catalog_cached
from vod.storage import LocalStorage, Recordings

TALK = """\
talks:
  - slug: first-talk
    title: First
    speakers: [ada]
"""


def billion_laughs(levels: int = 9) -> str:
    """A few kB of YAML whose aliases expand to 10**levels strings."""
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels + 1):
        refs = ",".join([f"*a{i - 1}"] * 10)
        lines.append(f"a{i}: &a{i} [{refs}]")
    return "\n".join(lines) + "\n"


def test_yaml_aliases_are_refused_with_their_line(tmp_path: Path) -> None:
    text = EVENT + "talks:\n  - slug: one\n    title: &t Same title\n  - slug: two\n    title: *t\n"
    p = only(tmp_path, {"speakers.yaml": SPEAKERS, "conf.yaml": text})
    assert located(tmp_path, [p]) == [("conf.yaml", 10, "(syntax)")]
    assert "aliases" in p.message


def test_a_billion_laughs_is_refused_quickly(tmp_path: Path) -> None:
    bomb = (
        EVENT
        + "talks:\n  - slug: bomb\n    abstract:\n"
        + "".join("      " + line + "\n" for line in billion_laughs().splitlines())
    )
    # A mapping under `abstract` (not text) holding the bomb: before, checking it expanded
    # every alias; now the first repeated node stops the read.
    started = time.process_time()
    p = only(tmp_path, {"conf.yaml": bomb})
    assert time.process_time() - started < 5  # expanded, it does not finish in minutes
    assert "aliases" in p.message and p.line is not None


def test_a_small_file_cannot_expand_into_a_huge_page(tmp_path: Path) -> None:
    """The reported case: one long text anchored once, repeated by alias in a list of tags."""
    long_text = "x" * 50_000
    aliases = ", ".join(["*big"] * 400)  # 2 kB of aliases: 20 MB of tags on one page
    text = (
        EVENT + f"talks:\n  - slug: bomb\n    abstract: &big {long_text}\n    tags: [{aliases}]\n"
    )
    p = only(tmp_path, {"conf.yaml": text})
    assert located(tmp_path, [p]) == [("conf.yaml", 9, "(syntax)")]
    assert "aliases" in p.message


def test_a_merge_key_is_an_alias_too(tmp_path: Path) -> None:
    text = EVENT + "talks:\n  - &base\n    slug: one\n  - <<: *base\n    title: Two\n"
    assert "aliases" in only(tmp_path, {"conf.yaml": text}).message


def test_an_asterisk_in_text_is_not_an_alias(tmp_path: Path) -> None:
    folder = write(
        tmp_path / "catalog",
        {"conf.yaml": EVENT + "talks:\n  - slug: one\n    title: 'a * b, *not* bold'\n"},
    )
    catalog, found = validate_catalog(folder)
    assert found == [] and catalog is not None


def test_a_symlink_leading_outside_the_catalog_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "elsewhere" / "other-site.yaml"
    write(secret.parent, {secret.name: EVENT})
    folder = write(tmp_path / "catalog", {"speakers.yaml": SPEAKERS})
    (folder / "stolen.yaml").symlink_to(secret)
    for found in (
        validate_catalog(folder)[1],
        validate_catalog_cached(folder, catalog_cache_dir(tmp_path / "index"))[1],
    ):
        assert located(tmp_path, found) == [("stolen.yaml", None, "(file)")]
        assert "outside the catalog folder" in found[0].message


def test_a_symlink_inside_the_catalog_is_read(tmp_path: Path) -> None:
    folder = write(tmp_path / "catalog", {"speakers.yaml": SPEAKERS, "shared/conf.data": EVENT})
    os.symlink("shared/conf.data", folder / "conf.yaml")
    catalog, found = validate_catalog(folder)
    assert found == [] and catalog is not None and list(catalog.events) == ["conf"]


# ---- do_not_record ----------------------------------------------------------------------------


def test_a_do_not_record_talk_has_no_recording(tmp_path: Path) -> None:
    text = EVENT + TALK + "    do_not_record: true\n  - slug: second\n    do_not_record: false\n"
    folder = write(tmp_path / "catalog", {"speakers.yaml": SPEAKERS, "conf.yaml": text})
    catalog, found = validate_catalog(folder)
    assert found == [] and catalog is not None
    talk = catalog.talk("first-talk")
    assert talk.do_not_record and not talk.published
    assert talk.recording == Recording()  # no key, no URL: nothing to play or to check
    playback = Recordings(LocalStorage(tmp_path / "media")).playback(talk)
    assert playback.status == "not_recorded" and playback.src is None
    assert playback.note is not None and "not recorded" in playback.note
    assert catalog.talk("second").published
    assert catalog.talk("second").recording.key == "conf/second.mp4"


@pytest.mark.parametrize(
    ("extra", "field", "line"),
    [
        (
            "    do_not_record: true\n    recording:\n      url: https://v.example/a.mp4\n",
            "recording",
            12,
        ),
        ("    do_not_record: yes please\n", "do_not_record", 10),
    ],
)
def test_do_not_record_problems_are_located(
    tmp_path: Path, extra: str, field: str, line: int
) -> None:
    p = only(tmp_path, {"speakers.yaml": SPEAKERS, "conf.yaml": EVENT + TALK + extra})
    assert located(tmp_path, [p]) == [("conf.yaml", line, f"talks[0].{field}")]


def test_a_guid_given_to_two_talks_is_reported(tmp_path: Path) -> None:
    files: dict[str, str | bytes] = {
        "speakers.yaml": SPEAKERS,
        "conf.yaml": EVENT + "talks:\n  - slug: one\n    guid: g-1\n",
        "more/other.yaml": EVENT.replace("conf", "other")
        + "talks:\n  - slug: two\n    guid: g-1\n",
    }
    p = only(tmp_path, files)
    assert located(tmp_path, [p]) == [("more/other.yaml", 8, "talks[0].guid")]
    assert "'g-1' is already the guid of talk 'one'" in p.message
    folder = tmp_path / "catalog"
    cached = validate_catalog_cached(folder, catalog_cache_dir(tmp_path / "index"))
    assert cached == (None, [p])


def test_deeply_nested_yaml_is_one_clear_problem(tmp_path: Path) -> None:
    """libyaml stops at 1,000 levels; the fallback parser used to die of RecursionError."""
    p = only(tmp_path, {"conf.yaml": "event: " + "[" * 100_000 + "]" * 100_000 + "\n"})
    assert p.field == "(syntax)" and "nested too deeply" in p.message
