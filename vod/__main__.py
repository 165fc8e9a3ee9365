"""Let `python -m vod` run the command line."""

from vod.cli import main

main()
