"""Caption files given as http(s) URLs in the catalog, fetched once when the index is built.

Only http and https, redirects included (no file: or ftp: by way of a redirect); a bounded
timeout; at most the caption size limit, read without downloading more. What cannot be read is
the build's to log and skip: a caption never fails a build.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlsplit

from vod import __version__
from vod.storage import text_within

TIMEOUT = 5.0  # seconds to connect, and between bytes read


class HostDown(OSError):
    """The caption's host did not answer (refused, timed out, unknown): ask it nothing more."""


class _HttpOnlyRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(
        self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str
    ) -> Any:
        if urlsplit(newurl).scheme not in ("http", "https"):
            raise ValueError(f"redirected outside http(s) to {newurl!r}")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


_OPENER = urllib.request.build_opener(_HttpOnlyRedirects)


def fetch_text(url: str, limit: int, timeout: float = TIMEOUT) -> str | None:
    """Return the UTF-8 text at `url`, or None when the server says it is not there (404/410).

    Raise ValueError for a URL that is not http(s), a larger or non-UTF-8 body, or another
    HTTP error; HostDown when the host does not answer.
    """
    if urlsplit(url).scheme not in ("http", "https"):
        raise ValueError(f"{url!r} is not an http(s) URL")
    request = urllib.request.Request(url, headers={"User-Agent": f"vod/{__version__} (captions)"})
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            data: bytes = response.read(limit + 1)
    except urllib.error.HTTPError as exc:
        exc.close()
        if exc.code in (404, 410):
            return None
        raise ValueError(f"{url!r} answered HTTP {exc.code}") from None
    except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
        reason = getattr(exc, "reason", exc)
        raise HostDown(f"{urlsplit(url).netloc} did not answer: {reason}") from None
    return text_within(url, data, limit)
