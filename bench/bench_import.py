"""`vod import pyvideo` on the real corpus: a first import, a re-import, and their memory.

Measures:
- the import in-process (`import_pyvideo`: read the .tar.gz as a stream, check every record,
  merge, write the files), its peak resident memory, and the records it skipped;
- the same source imported again into the same folder (nothing changes, nothing is written);
- the whole `vod import pyvideo` command in a new process (imports, the import, then the check
  that loads what was written, which also fills the catalog cache).

Usage:
    python bench/bench_import.py --source ../shared/data/pyvideo-data.tar.gz [--workdir DIR]
"""

from __future__ import annotations

import argparse
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--source", type=Path, required=True, help="pyvideo .tar.gz or folder")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/vod-bench-import"))
    args = parser.parse_args()

    from vod.importers.pyvideo import import_pyvideo

    out = args.workdir / "catalog"
    shutil.rmtree(args.workdir, ignore_errors=True)
    args.workdir.mkdir(parents=True)
    start = time.perf_counter()
    report = import_pyvideo(args.source, out)
    first = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"import: {first:.1f} s for {report.talks} talks in {report.events} events "
        f"({report.talks / first:.0f} talks/s), {report.new_speakers} speakers, "
        f"{len(report.written)} files; {len(report.skipped)} skipped, "
        f"{len(report.unpublished)} not published; peak RSS {peak:.0f} MB"
    )
    start = time.perf_counter()
    again = import_pyvideo(args.source, out)
    print(
        f"re-import of the same source: {time.perf_counter() - start:.1f} s, "
        f"{len(again.written)} files written, {again.unchanged} unchanged"
    )
    for label, target in (("first import", args.workdir / "cli"), ("re-import", None)):
        target = target or args.workdir / "cli"
        start = time.perf_counter()
        subprocess.run(
            [
                *(sys.executable, "-m", "vod", "import", "pyvideo", str(args.source)),
                *("--out", str(target), "--index-dir", str(args.workdir / "index")),
            ],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        print(
            f"`vod import pyvideo` ({label}, with the check): {time.perf_counter() - start:.1f} s"
        )


if __name__ == "__main__":
    main()
