"""Links bloggers can trust: moments and clips, share/cite/embed, link previews, oEmbed,
title cards, chapters, Atom feeds and the video sitemap (issue #4).

Each module builds finished data from the catalog; `vod.web.links` holds the endpoints.
"""
