"""A plain (non-editable) install serves pages from outside the checkout.

The wheel must carry templates, static files and the bundled catalog; this test builds it,
installs it into a scratch folder and renders pages from there.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--disable-pip-version-check",
            "-q",
            "-w",
            str(out),
            str(ROOT),
        ],
        check=True,
    )
    (wheel,) = out.glob("vod-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for needed in (
        "vod/templates/talk.html",
        "vod/static/placeholder.mp4",
        "vod/static/vod.css",
        "vod/bundled/catalog/systems-scale-2024.yaml",
        "vod/web/app.py",
    ):
        assert needed in names
    site = out / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--disable-pip-version-check",
            "-q",
            "--target",
            str(site),
            str(wheel),
        ],
        check=True,
    )
    return site


def _run(site: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOD_")}
    env["PYTHONPATH"] = str(site)
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, env=env, text=True, capture_output=True, timeout=120
    )


def test_installed_package_is_the_one_imported(installed: Path, tmp_path: Path) -> None:
    result = _run(
        installed,
        tmp_path,
        "-c",
        "import vod, vod.config as c; print(vod.__file__); print(c.Settings().templates_dir)",
    )
    module_file, templates = result.stdout.split()
    assert Path(module_file).is_relative_to(installed)
    assert Path(templates).is_relative_to(installed)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/talks/training-arctic-at-snowflake", "Hyungtae Kim"),
        ("/events/systems-scale-2024", "Systems @Scale 2024"),
        ("/search?q=rasley", "Training Arctic at Snowflake"),
    ],
)
def test_installed_package_serves_pages_outside_checkout(
    installed: Path, tmp_path: Path, path: str, expected: str
) -> None:
    result = _run(installed, tmp_path, "-m", "vod", "serve", "--get", path)
    assert result.returncode == 0, result.stderr
    assert expected in result.stdout
    # Built in the working folder, in the folder of its catalog (issue 10: one per catalog).
    (pointer,) = (tmp_path / "index").glob("catalog-*/CURRENT")
    assert pointer.is_file()
