"""Hostile input: escaping, security headers, the media folder boundary, Range, odd queries.

Nothing a visitor sends may produce a 500, and nothing a catalog holds may become markup.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from vod.config import Settings
from vod.web.app import create_app
from vod.web.middleware import _one_each

SNOWFLAKE = "training-arctic-at-snowflake"
EVENT = "systems-scale-2024"
SCRIPT = "<script>alert(1)</script>"
ATTR = '"onmouseover=alert(1) x="'
ESCAPED_SCRIPT = "&lt;script&gt;alert(1)&lt;/script&gt;"


class _Tags(HTMLParser):
    """Record every start tag and its attributes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    handle_startendtag = handle_starttag


def tags(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Tags()
    parser.feed(html)
    parser.close()
    return parser.tags


def assert_no_injected_markup(html: str) -> None:
    assert "<script>alert" not in html.lower()
    for tag, attrs in tags(html):
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)
        # Only our own external scripts, and the JSON-LD data block (never executed; its JSON
        # is checked in tests/test_links_pages.py).
        if tag == "script" and attrs != {"type": "application/ld+json"}:
            assert str(attrs.get("src", "")).startswith("/static/"), attrs
        assert tag != "iframe"


# ---- autoescape: catalog fields full of markup ------------------------------------------------

EVIL_YAML = textwrap.dedent(
    f"""\
    event:
      slug: evil-event
      name: 'Evil {SCRIPT} Conf {ATTR}'
      start_date: 2030-01-01
      timezone: UTC
      location: 'Hall {SCRIPT}'
      description: 'Described {SCRIPT} {ATTR}'
      url: 'https://example.org/"onmouseover=alert(1)'

    talks:
      - slug: evil-talk
        title: 'Evil talk {SCRIPT} {ATTR}'
        session: 'Session {SCRIPT}'
        start: "10:00"
        end: "10:30"
        speakers: [evil-speaker]
        recording_speakers: [evil-speaker, plain-speaker]
        abstract: 'Abstract about xylophones {SCRIPT} and {ATTR} and <b>bold</b> &amp; more.'
        tags: ['tag {SCRIPT}']
        links: [{{title: 'Slides {SCRIPT}', url: 'https://example.org/?a="onmouseover=x'}}]
        recording:
          duration: 600
          chapters: [{{start: 60, title: 'Chapter {SCRIPT}'}}]
      - slug: evil-neighbour
        abstract: 'No title, only {SCRIPT} xylophones'

    speakers:
      - slug: evil-speaker
        name: 'Mallory {SCRIPT} {ATTR}'
        company: 'Evil {SCRIPT} Inc'
        job_title: 'Chief {ATTR}'
        bio: 'Bio {SCRIPT}'
        aliases: ['Mal {SCRIPT}']
      - slug: plain-speaker
        name: Plain Example
    """
)


@pytest.fixture(scope="module")
def evil_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    root = tmp_path_factory.mktemp("evil")
    (root / "evil.yaml").write_text(EVIL_YAML, encoding="utf-8")
    settings = Settings(
        catalog=root / "evil.yaml", index_dir=root / "index", media_dir=root / "media"
    )
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/events/evil-event",
        "/talks/evil-talk",
        "/talks/evil-talk?t=60",
        "/talks/evil-neighbour",
        "/embed/evil-talk",
        "/speakers/evil-speaker",
        "/speakers/plain-speaker",
        "/search?q=xylophones",
        "/search?q=mallory",
        "/search?q=alert",
        "/search?q=script",
        "/search?q=onmouseover",
        "/search?q=evil",
        "/search?q=xylophone",  # spelling correction path
    ],
)
def test_catalog_markup_is_escaped_on_every_page(evil_client: TestClient, url: str) -> None:
    response = evil_client.get(url)
    assert response.status_code == 200, response.text[:300]
    html = response.text
    assert_no_injected_markup(html)
    assert ESCAPED_SCRIPT in html  # the text is shown, as text


@pytest.mark.parametrize(
    ("url", "visible"),
    [
        (
            "/talks/evil-talk",
            [
                "Evil talk <script>alert(1)</script>",
                "Session <script>",
                "Mallory <script>alert(1)</script>",
                "<b>bold</b> &amp; more",
                "Slides <script>",
                "Chapter <script>",
            ],
        ),
        (
            "/events/evil-event",
            ["Evil <script>alert(1)</script> Conf", "Hall <script>", "Described <script>"],
        ),
        (
            "/speakers/evil-speaker",
            ["Mallory <script>", "Evil <script>alert(1)</script> Inc", "Bio <script>"],
        ),
        ("/search?q=xylophones", ["Abstract about <mark>xylophones</mark>"]),
    ],
)
def test_escaped_text_reads_as_written(
    evil_client: TestClient, url: str, visible: list[str]
) -> None:
    """What the catalog says is shown literally: escaped once, never twice, never dropped."""
    text = _visible_text(evil_client.get(url).text)
    for fragment in visible:
        assert fragment in text


def _visible_text(html: str) -> str:
    """The page as a reader sees it, except that <mark> is kept to check highlights."""

    class Text(HTMLParser):
        def __init__(self) -> None:
            super().__init__(convert_charrefs=True)
            self.parts: list[str] = []

        def handle_starttag(self, tag: str, attrs: Any) -> None:
            if tag == "mark":
                self.parts.append("<mark>")

        def handle_endtag(self, tag: str) -> None:
            if tag == "mark":
                self.parts.append("</mark>")

        def handle_data(self, data: str) -> None:
            self.parts.append(data)

    parser = Text()
    parser.feed(html)
    return " ".join("".join(parser.parts).split())


def test_attribute_values_stay_inside_their_quotes(evil_client: TestClient) -> None:
    html = evil_client.get("/talks/evil-talk").text
    found = tags(html)
    titles = [a["aria-label"] for t, a in found if t == "video"]
    assert titles == [f"Recording: Evil talk {SCRIPT} {ATTR}"]
    links = [a["href"] for t, a in found if t == "a" and "example.org" in str(a.get("href"))]
    assert links == ['https://example.org/?a="onmouseover=x']


def test_search_snippet_of_markup_is_escaped(evil_client: TestClient) -> None:
    body = evil_client.get("/api/search", params={"q": "xylophones"}).json()
    for hit in body["results"]:
        snippet = hit["snippet"]
        without_marks = snippet.replace("<mark>", "").replace("</mark>", "")
        assert "<" not in without_marks and ">" not in without_marks
        assert "&lt;script&gt;" in snippet


def test_json_twins_keep_catalog_text_as_data(evil_client: TestClient) -> None:
    response = evil_client.get("/api/talks/evil-talk")
    assert response.headers["content-type"] == "application/json"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.json()["title"] == f"Evil talk {SCRIPT} {ATTR}"


# ---- security headers -----------------------------------------------------------------------

NOT_FRAMABLE = [
    "/",
    f"/events/{EVENT}",
    f"/talks/{SNOWFLAKE}",
    "/speakers/jeff-rasley",
    "/search?q=snowflake",
    "/search?q=*",
    "/healthz",
    "/api/talks",
    f"/api/talks/{SNOWFLAKE}",
    "/api/search?q=rasley",
    f"/api/events/{EVENT}",
    "/static/vod.css",
    "/static/placeholder.mp4",
    "/talks/no-such-talk",
    "/api/talks/no-such-talk",
    "/no-such-page",
    "/embed",
    "/embedded/x",
]


@pytest.mark.parametrize("url", NOT_FRAMABLE)
def test_pages_refuse_to_be_framed(client: TestClient, url: str) -> None:
    response = client.get(url)
    assert response.status_code < 500
    csp = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "strict-origin-when-cross-origin"


@pytest.mark.parametrize(
    "url", [f"/embed/{SNOWFLAKE}", f"/embed/{SNOWFLAKE}?t=90&autoplay=1", "/embed/no-such-talk"]
)
def test_embed_may_be_framed_anywhere(client: TestClient, url: str) -> None:
    response = client.get(url)
    csp = response.headers["content-security-policy"]
    assert "frame-ancestors *" in csp and "'none'" not in csp.split("frame-ancestors")[1]
    assert "x-frame-options" not in response.headers
    assert response.headers["x-content-type-options"] == "nosniff"


def test_vary_names_each_header_once() -> None:
    assert _one_each(["Accept-Encoding, accept-encoding", "Cookie, Accept-Encoding"]) == (
        "Accept-Encoding, Cookie"
    )
    assert _one_each(["Origin,, Origin ,"]) == "Origin"


def test_csp_allows_no_inline_script(client: TestClient) -> None:
    csp = client.get("/").headers["content-security-policy"]
    directives = {}
    for part in filter(None, (p.strip() for p in csp.split(";"))):
        name, _, value = part.partition(" ")
        directives[name] = value
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert "unsafe" not in csp


@pytest.mark.parametrize(
    "url", ["/", f"/talks/{SNOWFLAKE}", f"/embed/{SNOWFLAKE}", "/search?q=snowflake"]
)
def test_pages_have_no_inline_script_or_style(client: TestClient, url: str) -> None:
    for tag, attrs in tags(client.get(url).text):
        # The JSON-LD data block runs no code; every other script must be a file.
        if tag == "script" and attrs != {"type": "application/ld+json"}:
            assert attrs.get("src"), "inline script would be blocked by the CSP"
        assert tag != "style" and "style" not in attrs


@pytest.mark.parametrize(
    ("url", "json_body"), [("/", False), ("/api/talks", True), (f"/embed/{SNOWFLAKE}", False)]
)
def test_server_error_is_a_plain_500_with_headers(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, url: str, json_body: bool
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("secret detail /etc/vod")

    # The list pages are built in vod.browse since issue #11.
    monkeypatch.setattr("vod.browse.home_page", broken)
    monkeypatch.setattr("vod.browse.talk_card", broken)
    monkeypatch.setattr("vod.pages.talk_card", broken)
    monkeypatch.setattr("vod.pages.talk_page", broken)
    with TestClient(create_app(settings), raise_server_exceptions=False) as c:
        response = c.get(url)
    assert response.status_code == 500
    assert "secret detail" not in response.text  # no traceback or message leaks out
    assert "Something went wrong" in response.text
    assert response.headers["x-content-type-options"] == "nosniff"
    ancestors = "*" if url.startswith("/embed/") else "'none'"
    assert f"frame-ancestors {ancestors}" in response.headers["content-security-policy"]
    if json_body:
        assert response.json() == {"error": "Something went wrong on our side. It has been logged."}


# ---- /media: the folder boundary and Range ------------------------------------------------------

CLIP = bytes(range(256)) * 16  # 4 kB: above the gzip threshold


@pytest.fixture
def media_client(settings: Settings, tmp_path: Path) -> Iterator[TestClient]:
    media = tmp_path / "media"
    (media / "talks").mkdir(parents=True)
    (media / "talks" / "clip.mp4").write_bytes(CLIP)
    (tmp_path / "secret.txt").write_text("TOP-SECRET outside the media folder")
    (media / "link.txt").symlink_to(tmp_path / "secret.txt")
    (media / "dirlink").symlink_to(tmp_path)
    with TestClient(create_app(settings.replace(media_dir=media))) as c:
        yield c


@pytest.mark.parametrize(
    "path",
    [
        "/media/../vod/config.py",
        "/media/%2e%2e/vod/config.py",
        "/media/%2E%2E/%2E%2E/vod/config.py",
        "/media/..%2f..%2fetc/passwd",
        "/media/..%2fsecret.txt",
        "/media/%2e%2e/secret.txt",
        "/media/%2e%2e%2fsecret.txt",
        "/media/talks/..%2f..%2fsecret.txt",
        "/media/talks/%2e%2e/%2e%2e/secret.txt",
        "/media/%2fetc%2fpasswd",
        "/media//etc/passwd",
        "/media/..%5csecret.txt",
        "/media/%5c..%5c..%5csecret.txt",
        "/media/link.txt",
        "/media/dirlink/secret.txt",
        "/media/talks/clip.mp4%00.txt",
        "/media/%00",
        "/media/",
        "/media/talks",
        "/media/.",
        "/media/%2e",
        "/media/talks/missing.mp4",
    ],
)
def test_media_never_serves_outside_its_folder(media_client: TestClient, path: str) -> None:
    response = media_client.get(path)
    assert response.status_code == 404, (path, response.status_code)
    assert "TOP-SECRET" not in response.text
    assert "BUNDLED_CATALOG" not in response.text  # vod/config.py
    assert "root:" not in response.text


def test_media_serves_a_file_whole(media_client: TestClient) -> None:
    response = media_client.get("/media/talks/clip.mp4")
    assert response.status_code == 200
    assert response.content == CLIP
    assert response.headers["content-type"] == "video/mp4"
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["content-length"] == str(len(CLIP))
    assert "content-encoding" not in response.headers  # video is never gzipped


def test_media_head(media_client: TestClient) -> None:
    response = media_client.head("/media/talks/clip.mp4")
    assert response.status_code == 200
    assert response.headers["content-length"] == str(len(CLIP)) and response.content == b""


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        ("bytes=0-9", 0, 9),
        ("bytes=100-199", 100, 199),
        (f"bytes={len(CLIP) - 10}-", len(CLIP) - 10, len(CLIP) - 1),
        ("bytes=-10", len(CLIP) - 10, len(CLIP) - 1),
    ],
)
def test_media_range(media_client: TestClient, header: str, start: int, end: int) -> None:
    response = media_client.get(
        "/media/talks/clip.mp4", headers={"Range": header, "Accept-Encoding": "gzip"}
    )
    assert response.status_code == 206
    assert response.content == CLIP[start : end + 1]
    assert response.headers["content-range"] == f"bytes {start}-{end}/{len(CLIP)}"
    assert response.headers["content-length"] == str(end - start + 1)
    assert "content-encoding" not in response.headers


def test_media_range_first_ten_bytes(media_client: TestClient) -> None:
    response = media_client.get("/media/talks/clip.mp4", headers={"Range": "bytes=0-9"})
    assert response.status_code == 206
    assert len(response.content) == 10 and response.content == CLIP[:10]
    assert response.headers["content-range"] == f"bytes 0-9/{len(CLIP)}"


@pytest.mark.parametrize("header", [f"bytes={len(CLIP)}-", "bytes=99999-100000"])
def test_media_unsatisfiable_range(media_client: TestClient, header: str) -> None:
    response = media_client.get("/media/talks/clip.mp4", headers={"Range": header})
    assert response.status_code == 416
    assert response.headers["content-range"] == f"bytes */{len(CLIP)}"


@pytest.mark.parametrize("header", ["bytes=abc", "lines=0-9", "bytes=9-0", "bytes=" + "0-1," * 500])
def test_media_odd_range_is_never_a_500(media_client: TestClient, header: str) -> None:
    response = media_client.get("/media/talks/clip.mp4", headers={"Range": header})
    assert response.status_code in (200, 206, 400, 416)


# ---- odd queries and parameters -----------------------------------------------------------------

ODD_QUERIES = [
    '"unbalanced',
    'a "b',
    "(((",
    "a)",
    "(a",
    "((a) b))",
    "AND",
    "OR",
    "NOT",
    "a AND",
    "AND OR NOT",
    "-",
    "+",
    "*",
    "**",
    "a*",
    "*a*",
    "?",
    "~",
    "a~2",
    "foo^3",
    "nosuchfield:foo",
    "slug:training-arctic-at-snowflake",
    "title:",
    "speaker:(",
    ":",
    "*:*",
    "year:[2000 TO 3000]",
    "{a TO b}",
    "\\",
    "'",
    "x" * 3000,
    "word " * 600,
    "a" * 499,
    SCRIPT,
    '"><img src=x onerror=alert(1)>',
    "\x00",
    "a\x00b",
    "\u202e",
    "🙂",
    "\ufffd",
    "(" * 50 + "a" + ")" * 50,
]


@pytest.mark.parametrize("query", ODD_QUERIES, ids=[repr(q)[:40] for q in ODD_QUERIES])
def test_odd_query_html(client: TestClient, query: str) -> None:
    response = client.get("/search", params={"q": query})
    assert response.status_code in (200, 400), response.text[:300]
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert_no_injected_markup(html)
    # Cards show thumbnails since issue #11: every image is one of ours, none from the query.
    assert "<img src=x" not in html.lower()
    for tag, attrs in tags(html):
        if tag == "img":
            assert str(attrs["src"]).startswith(("/static/", "/cards/", "https://")), attrs
    # The page always says something: results, "nothing matches", or why it can't search.
    assert ('id="results-h"' in html) or ('class="error-message"' in html)
    if response.status_code == 400:
        assert 'role="alert"' in html


@pytest.mark.parametrize("query", ODD_QUERIES, ids=[repr(q)[:40] for q in ODD_QUERIES])
def test_odd_query_json(client: TestClient, query: str) -> None:
    response = client.get("/api/search", params={"q": query})
    assert response.status_code in (200, 400), response.text[:300]
    assert response.headers["content-type"] == "application/json"
    assert response.headers["x-content-type-options"] == "nosniff"
    body = response.json()
    if response.status_code == 400:
        assert set(body) == {"error", "query"} and body["error"]
    else:
        assert isinstance(body["results"], list) and isinstance(body["total"], int)
        for hit in body["results"]:
            snippet = hit["snippet"].replace("<mark>", "").replace("</mark>", "")
            assert "<" not in snippet


BAD_PAGES = [
    "0",
    "-1",
    "abc",
    "99999999999999999999",
    "1.5",
    "",
    " ",
    "1e3",
    "²",
    "١٢",
    "0x10",
    "10001",
    "1" + "0" * 5000,
    "\x00",
    "%00",
]


LISTS = [("/search", {"q": "snowflake"}), ("/api/search", {"q": "snowflake"}), ("/api/talks", {})]


@pytest.mark.parametrize("page", BAD_PAGES, ids=[repr(p)[:20] for p in BAD_PAGES])
@pytest.mark.parametrize(("path", "params"), LISTS, ids=[p for p, _ in LISTS])
def test_bad_page_is_a_400(
    client: TestClient, path: str, params: dict[str, str], page: str
) -> None:
    response = client.get(path, params={**params, "page": page})
    assert response.status_code == 400, (path, page, response.status_code)
    if path.startswith("/api/"):
        assert response.json() == {"error": "page must be a whole number from 1 to 10000"}
    else:
        assert "page must be a whole number" in response.text


@pytest.mark.parametrize("page", ["1", "01", "2", "51", "10000"])
@pytest.mark.parametrize(("path", "params"), LISTS, ids=[p for p, _ in LISTS])
def test_good_page_values(client: TestClient, path: str, params: dict[str, str], page: str) -> None:
    assert client.get(path, params={**params, "page": page}).status_code == 200


# ---- lone surrogates, NUL and other bytes in URLs ---------------------------------------------

ODD_BYTES = [
    "%ED%A0%80",
    "%ED%BF%BF",
    "%00",
    "%FF%FE",
    "%C0%AF",
    "%uD800",
    "%E2%80%AE",
    "%F0%9F%99%82",
    "%",
    "%%",
    "%0A%0D",
    "x%00y",
]
ODD_URLS = [
    template.format(b)
    for b in ODD_BYTES
    for template in (
        "/search?q={}",
        "/api/search?q={}",
        "/search?q=a&page={}",
        "/talks/{}",
        f"/talks/{SNOWFLAKE}?t={{}}",
        "/api/talks/{}",
        "/speakers/{}",
        "/events/{}",
        "/api/events/{}",
        "/embed/{}",
        "/media/{}",
        "/static/{}",
        "/{}",
        "/api/talks?event={}",
    )
]


@pytest.mark.parametrize("url", ODD_URLS)
def test_odd_bytes_in_urls_are_never_a_500(client: TestClient, url: str) -> None:
    response = client.get(url)
    assert response.status_code < 500, (url, response.status_code)
    if response.headers["content-type"] == "application/json":
        json.loads(response.text)
    else:
        assert_no_injected_markup(response.text)
