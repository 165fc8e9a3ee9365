"""Importers: turn other catalog formats (pyvideo, pretalx/frab schedule.json) into vod's."""

from vod.importers.merge import ImportReport

__all__ = ["ImportReport"]
