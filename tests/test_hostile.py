"""Hostile input on every route: never a 500, never unescaped output, never a file outside media.

Routes are read from the app's own table, so a route added later is covered without editing
this file.
"""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from httpx2 import Response
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.routing import Mount, Route
from starlette.testclient import TestClient

MARKER = "<xss-vod>"  # would appear verbatim only if some output were unescaped
PARAM_RE = re.compile(r"{(\w+)(?::\w+)?}")

nasty_text = st.one_of(
    st.text(max_size=60),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=60),
    st.sampled_from(
        [
            "",
            " ",
            "\x00",
            "\u202e",
            "\ufeff",
            "../../etc/passwd",
            "..%2f..%2fetc%2fpasswd",
            "%00",
            "%2e%2e/%2e%2e/vod/config.py",
            MARKER,
            f'"{MARKER}',
            "javascript:alert(1)",
            "-5",
            "1e309",
            "NaN",
            "99999999999999999999",
            "*",
            "(",
            '"',
            "AND",
            "title:(",
            "a" * 5000,
            "😀" * 300,
            "\ud800",
        ]
    ),
)


def _routes(client: TestClient) -> list[Route]:
    app = client.app
    assert isinstance(app, Starlette)
    return [r for r in app.routes if isinstance(r, Route) and not isinstance(r, Mount)]


def _enc(value: str) -> str:
    return quote(value.encode("utf-8", "surrogatepass"), safe="")


def _fill(path: str, value: str) -> str:
    encoded = _enc(value)
    return PARAM_RE.sub(lambda m: encoded or "x", path)


def _check(response: Response, *, path: str) -> None:
    # The one 5xx a client may cause: oEmbed answers 501 to a format it does not offer (the
    # spec, oembed.com section 2.3.5); anything else is a server error.
    oembed_format = path == "/oembed" and response.status_code == 501
    assert response.status_code < 500 or oembed_format, f"{path} -> {response.status_code}"
    ctype = response.headers.get("content-type", "")
    if ctype.startswith(("text/html", "application/xml", "application/atom", "text/xml")):
        assert MARKER not in response.text, f"unescaped output on {path}"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=nasty_text, param_value=nasty_text, data=st.data())
def test_every_route_survives_any_input(
    client: TestClient, value: str, param_value: str, data: st.DataObject
) -> None:
    route = data.draw(st.sampled_from(_routes(client)))
    path = _fill(route.path, value)
    names = data.draw(
        st.lists(
            st.sampled_from(
                [
                    "q",
                    "t",
                    "end",
                    "page",
                    "url",
                    "format",
                    "maxwidth",
                    "maxheight",
                    "event",
                    "sort",
                    "speaker",
                    "autoplay",
                ]
            ),
            max_size=4,
        )
    )
    params = [(n, param_value) for n in names] + [(n, value) for n in names[:1]]  # repeats
    for method in sorted(route.methods or {"GET"}):
        if method not in ("GET", "HEAD", "POST"):
            continue
        # Encoded by hand: lone surrogates are valid input here, which the client won't encode.
        query = "&".join(f"{_enc(n)}={_enc(v)}" for n, v in params)
        url = f"{path}?{query}" if query else path
        response = client.request(method, url, follow_redirects=False)
        _check(response, path=path)


@pytest.mark.parametrize(
    "attempt",
    [
        "/media/../vod/config.py",
        "/media/%2e%2e/vod/config.py",
        "/media/..%2f..%2fvod%2fconfig.py",
        "/media/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "/media//etc/passwd",
        "/media/%00",
        "/static/../config.py",
        "/static/%2e%2e/config.py",
        "/static/..%2fconfig.py",
    ],
)
def test_no_file_outside_its_folder(client: TestClient, attempt: str) -> None:
    response = client.get(attempt)
    assert response.status_code in (400, 404)
    assert "BUNDLED_CATALOG" not in response.text
    assert "root:" not in response.text


@pytest.mark.parametrize("page", ["-1", "0", "10001", "99999999999999999999", "1.5", "½", "١"])
@pytest.mark.parametrize(
    "path", ["/search?q=storage&page=", "/api/search?q=storage&page=", "/api/talks?page="]
)
def test_pagination_is_bounded(client: TestClient, path: str, page: str) -> None:
    response = client.get(path + quote(page))
    assert response.status_code == 400


def test_deep_page_within_bounds_is_an_empty_page(client: TestClient) -> None:
    response = client.get("/api/search?q=storage&page=10000")
    assert response.status_code == 200
    assert response.json()["results"] == []
