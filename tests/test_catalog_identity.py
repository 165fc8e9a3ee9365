"""One identity per speaker: name keys, slugs, likely duplicates, `vod speakers --duplicates`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from vod.catalog import Speaker
from vod.catalog.identity import SpeakerDirectory, likely_duplicates, name_key, slugify
from vod.cli import main


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Marc-André Lemburg", "Marc-Andre Lemburg"),
        ("Samuel FARRENS", "Samuel Farrens"),
        ("Kelly Schuster - Paredes", "Kelly Schuster-Paredes"),
        ("Nicholas H. Tollervey", "Nicholas H.Tollervey"),
        ("  Batuhan   Taşkaya ", "Batuhan Taskaya"),
        ("Łukasz Langa", "Lukasz Langa"),
    ],
)
def test_name_variants_share_a_key(a: str, b: str) -> None:
    assert name_key(a) == name_key(b)


def test_different_people_keep_different_keys() -> None:
    assert name_key("Jon Smith") != name_key("John Smith")
    assert name_key("") == ""


@pytest.mark.parametrize(
    ("text", "slug"),
    [
        ("Marc-André Lemburg", "marc-andre-lemburg"),
        ("python_porto", "python-porto"),
        ("pyconau-2010--what--39-s-new-in-django-1-2", "pyconau-2010-what-39-s-new-in-django-1-2"),
    ],
)
def test_slugify(text: str, slug: str) -> None:
    assert slugify(text) == slug


def test_slugify_keeps_names_in_other_scripts_apart() -> None:
    a, b = slugify("Иван Петров", fallback="speaker"), slugify("Пётр Иванов", fallback="speaker")
    assert a != b
    assert a.startswith("speaker-") and b.startswith("speaker-")
    assert slugify("Guido 吉多").startswith("guido-")
    assert len(slugify("word " * 40)) <= 80


def test_directory_finds_names_and_aliases_and_makes_free_slugs() -> None:
    directory = SpeakerDirectory()
    directory.add("jeff-rasley", ["Jeff Rasley", "J. Rasley"])
    assert directory.find("jeff  RASLEY") == "jeff-rasley"
    assert directory.find("J Rasley") == "jeff-rasley"
    assert directory.find("Jeff Rasly") is None
    assert directory.new_slug("Jeff Rasley") == "jeff-rasley-2"


def speakers(*names: str, aliases: dict[str, tuple[str, ...]] | None = None) -> dict[str, Speaker]:
    out: dict[str, Speaker] = {}
    for name in names:
        slug = slugify(name)
        while slug in out:
            slug += "-x"
        out[slug] = Speaker(slug=slug, name=name, aliases=(aliases or {}).get(name, ()))
    return out


def test_likely_duplicates_and_why() -> None:
    found = likely_duplicates(
        speakers(
            "Jeff Rasley",
            "J. Rasley",
            "James A Bednar",
            "James Bednar",
            "Hyungtae Kim",
            "Kim Hyungtae",
            "Stephane Wirtel",
            "Stephane Wirtell",
            "Anna Lee",
            "Bob Lee",
        )
    )
    reasons = {(p.first, p.second): p.reason for p in found}
    assert reasons == {
        ("hyungtae-kim", "kim-hyungtae"): "same words in another order",
        ("jeff-rasley", "j-rasley"): "an initial for the first name",
        ("james-a-bednar", "james-bednar"): "same first and last name, middle name differs",
        ("stephane-wirtel", "stephane-wirtell"): "nearly the same spelling",
    }
    assert next(p.reason for p in found) == "same words in another order"  # most certain first


def test_a_variant_already_an_alias_is_a_same_name_duplicate() -> None:
    found = likely_duplicates(
        speakers("Jeff Rasley", "J. Rasley", aliases={"Jeff Rasley": ("J. Rasley",)})
    )
    assert [(p.first, p.second, p.reason) for p in found] == [
        ("jeff-rasley", "j-rasley", "same name")
    ]


CATALOG = """\
speakers:
  - {slug: jeff-rasley, name: Jeff Rasley}
  - {slug: j-rasley, name: J. Rasley}
  - {slug: ada-example, name: Ada Example}
event: {slug: conf, name: Conf, start_date: 2030-01-01, timezone: UTC}
talks:
  - {slug: one, speakers: [jeff-rasley]}
  - {slug: two, speakers: [j-rasley, ada-example]}
"""


def test_cli_lists_duplicates_and_speakers(tmp_path: Path) -> None:
    catalog = tmp_path / "conf.yaml"
    catalog.write_text(CATALOG, encoding="utf-8")
    runner = CliRunner()
    common = ["--catalog", str(catalog), "--index-dir", str(tmp_path / "ix")]
    result = runner.invoke(main, ["speakers", "--duplicates", *common])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == (
        "'Jeff Rasley' (jeff-rasley, 1 talk(s)) and 'J. Rasley' (j-rasley, 1 talk(s)): "
        "an initial for the first name"
    )
    result = runner.invoke(main, ["speakers", "--duplicates", "--json", *common])
    assert json.loads(result.output) == [
        {
            "first": {"slug": "jeff-rasley", "name": "Jeff Rasley", "talks": 1},
            "second": {"slug": "j-rasley", "name": "J. Rasley", "talks": 1},
            "reason": "an initial for the first name",
        }
    ]
    result = runner.invoke(main, ["speakers", *common])
    assert result.output.splitlines() == [
        "jeff-rasley\tJeff Rasley\t1 talk(s)",
        "j-rasley\tJ. Rasley\t1 talk(s)",
        "ada-example\tAda Example\t1 talk(s)",
    ]


def test_cli_sorts_speakers_by_number_of_talks(tmp_path: Path) -> None:
    catalog = tmp_path / "conf.yaml"
    catalog.write_text(
        CATALOG.replace(
            "{slug: two, speakers: [j-rasley, ada-example]}",
            "{slug: two, speakers: [j-rasley, ada-example]}\n"
            "  - {slug: three, speakers: [ada-example]}",
        ),
        encoding="utf-8",
    )
    common = ["--catalog", str(catalog), "--index-dir", str(tmp_path / "ix")]
    result = CliRunner().invoke(main, ["speakers", "--sort", "talks", *common])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "ada-example\tAda Example\t2 talk(s)",
        "j-rasley\tJ. Rasley\t1 talk(s)",
        "jeff-rasley\tJeff Rasley\t1 talk(s)",
    ]
    as_json = CliRunner().invoke(main, ["speakers", "--sort", "talks", "--json", *common])
    assert [r["talks"] for r in json.loads(as_json.output)] == [2, 1, 1]
    by_name = CliRunner().invoke(main, ["speakers", "--sort", "name", *common])
    assert [line.split("\t")[0] for line in by_name.output.splitlines()] == [
        "ada-example",
        "j-rasley",
        "jeff-rasley",
    ]
