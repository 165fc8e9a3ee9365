"""vod: a post-event video-on-demand catalog for technical conferences."""

__version__ = "0.1.0"
