"""Print the relevance of vod's search against a plain SQLite FTS5 (bm25) index of the same talks.

The relevance set, the baseline and the scoring are tests/relevance_set.py's (see there): the
floor in tests/test_search_relevance.py and these figures measure the same thing. Prints MRR@10
and success@1, overall and by kind, for vod and for the baseline, and the queries each misses.

Usage:
    python bench/relevance.py [--queries tests/relevance/queries.yaml] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from relevance_set import QUERIES, TOP, evaluate  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--queries", type=Path, default=QUERIES)
    parser.add_argument("--json", action="store_true", help="Print one JSON object.")
    args = parser.parse_args()
    result = evaluate(args.queries)
    vod, fts = result["vod"], result["fts5"]
    if args.json:
        print(
            json.dumps(
                {
                    name: {"mrr@10": s.mrr, "success@1": s.success_at_1, "misses": s.misses}
                    for name, s in (("vod", vod), ("fts5", fts))
                },
                indent=2,
            )
        )
        return
    print(f"{result['queries']} queries over {result['documents']} talks (top {TOP})\n")
    heads = ("vod MRR@10", "vod S@1", "FTS5 MRR@10", "FTS5 S@1")
    print(f"{'kind':10} {'n':>3}  {heads[0]:>10} {heads[1]:>8}  {heads[2]:>11} {heads[3]:>9}")
    for kind in sorted(vod.by_kind, key=lambda k: (k == "all", k)):
        v, f = vod.by_kind[kind], fts.by_kind[kind]
        print(f"{kind:10} {v[2]:3}  {v[0]:10.3f} {v[1]:8.3f}  {f[0]:11.3f} {f[1]:9.3f}")
    print(f"\nvod misses ({len(vod.misses)}): {list(vod.misses)}")
    print(f"FTS5 misses ({len(fts.misses)}): {list(fts.misses)}")


if __name__ == "__main__":
    main()
