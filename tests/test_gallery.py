"""The gallery in a real browser: ``pxfs serve`` and ``_repr_html_`` in headless Chromium.

Playwright drives Debian's ``chromium`` (``bash scripts/test.sh`` installs it); Playwright's
own browser download is not used. The app runs in a thread of this process
(:class:`pxfs.web.WebServer`, what ``pxfs serve`` runs) against moto S3 and local folders.
Screenshots go to ``<tmp>/screenshots``; with ``PXFS_SCREENSHOTS=docs/gallery`` they are
also written there (the pictures in docs/gallery.md).
"""

from __future__ import annotations

import os
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import pxfs as pxt
from pxfs.env import Env
from pxfs.tables._resultset import ResultSet
from pxfs.testing import HttpFileServer, MotoServer
from pxfs.web import WebServer

from .images import sample_image, write_image

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-proxy-server"]
HOSTILE = ["<script>window.__pwned = 1</script>", '<img src=x onerror="window.__pwned = 1">']
ALL_LOADED = "Array.from(document.images).every(i => i.complete)"
BROKEN = "Array.from(document.images).filter(i => !(i.naturalWidth > 0)).map(i => i.src)"
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))
# read at import: the autouse fixture of conftest.py clears PXFS_* variables for each test
_DOCS = Path(os.environ["PXFS_SCREENSHOTS"]).resolve() if os.environ.get("PXFS_SCREENSHOTS") else None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: bash scripts/test.sh installs it (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    # bypass_csp: Playwright's own checks evaluate scripts, which the app's CSP forbids; it
    # also shows that escaping alone keeps hostile strings inert, without the CSP's help
    context = browser.new_context(viewport={"width": 1100, "height": 800}, bypass_csp=True)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    yield pg
    context.close()
    assert errors == []


@pytest.fixture
def shot(tmp_path: Path) -> Any:
    """``shot(page, name)``: a screenshot in the test's folder (and in $PXFS_SCREENSHOTS)."""
    folder = tmp_path / "screenshots"
    folder.mkdir()

    def take(pg: Any, name: str) -> Path:
        path = folder / f"{name}.png"
        pg.screenshot(path=str(path), full_page=True)
        if _DOCS is not None:
            _DOCS.mkdir(parents=True, exist_ok=True)
            from PIL import Image  # the docs' copy: 64 colours keep the repository small

            Image.open(path).convert("RGB").quantize(64).save(_DOCS / path.name, optimize=True)
        return path

    return take


def loaded(pg: Any) -> int:
    """Wait for every image of the page; assert each one decoded; return how many."""
    pg.wait_for_function(ALL_LOADED, timeout=20_000)
    assert pg.evaluate(BROKEN) == []
    return int(pg.evaluate("document.images.length"))


def status(url: str, method: str = "GET", headers: dict[str, str] | None = None, data: bytes | None = None) -> int:
    try:
        with _NO_PROXY.open(urllib.request.Request(url, data=data, method=method, headers=headers or {}),
                            timeout=30) as r:
            return int(r.status)
    except urllib.error.HTTPError as e:
        return e.code


@pytest.fixture
def photos(tmp_path: Path, moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch) -> pxt.Table:
    """30 local photos (two titles hostile, one file truncated); `rot` on moto S3, `small` local."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", moto_server.endpoint_url)
    Env.reset()
    moto_server.create_bucket("gallery")
    pxt.create_dir("demo", if_exists="ignore")
    t = pxt.create_table("demo.photos", {"img": pxt.Image, "title": pxt.String, "year": pxt.Int})
    rows = []
    for i in range(29):
        path = write_image(tmp_path / "photos" / f"p{i:02d}.jpg", "JPEG", seed=i * 37, size=(160, 120))
        rows.append({"img": str(path), "title": HOSTILE[i] if i < 2 else f"photo {i}", "year": 2000 + i})
    t.insert(rows)
    data = (tmp_path / "photos" / "p00.jpg").read_bytes()
    (tmp_path / "photos" / "broken.jpg").write_bytes(data[: len(data) // 3])  # header fine, pixels missing
    t.insert(img=str(tmp_path / "photos" / "broken.jpg"), title="broken", year=2029)
    t.add_computed_column(rot=t.img.rotate(90), destination="s3://gallery/rot/")
    t.add_computed_column(small=t.img.thumbnail((48, 48)), destination=str(tmp_path / "small"))
    return t


def test_gallery_pages_in_chromium(photos: pxt.Table, page: Any, shot: Any, moto_server: MotoServer) -> None:
    t = photos
    with WebServer() as web:
        page.goto(web.url + "/")
        page.click("a:text-is('photos')")
        assert page.text_content(".count") == "30"
        versions = page.locator("table.versions tr").count() - 1
        assert versions == len(t.history()) >= 4
        assert page.locator("text=img.rotate(90)").count() == 1
        shot(page, "table")

        # the local column, a page at a time: 24 thumbnails, then 6
        page.goto(web.url + "/table/demo.photos/gallery/img")
        assert loaded(page) == 24
        assert page.text_content(".pager .position") == "page 1 of 2 (30 rows)"
        page.click("a[rel=next] >> nth=0")
        assert loaded(page) == 6
        page.click("a[rel=prev] >> nth=0")
        assert loaded(page) == 24
        shot(page, "gallery")

        # the S3 column is owed: no image yet, one button computes this page's cells only
        page.goto(web.url + "/table/demo.photos/gallery/rot?n=12")
        assert page.locator(".owed").count() == 12 and page.evaluate("document.images.length") == 0
        shot(page, "owed")
        with page.expect_navigation():
            page.click("#compute")
        assert loaded(page) == 12
        assert all(src.startswith(moto_server.endpoint_url + "/gallery/rot/")
                   for src in page.eval_on_selector_all("img", "els => els.map(e => e.src)"))
        assert page.locator(".owed").count() == 0 and page.locator("#compute").count() == 0
        assert stored("demo/photos/rot") == 12
        page.click("a[rel=next] >> nth=0")
        assert page.locator(".owed").count() == 12  # the next page was not computed
        page.goto(web.url + "/table/demo.photos/gallery/rot?n=12&page=3")
        with page.expect_navigation():
            page.click("#compute")
        assert loaded(page) == 5
        assert page.locator(".failed").count() == 1  # broken.jpg
        shot(page, "computed")

        # the local destination of `small`, served by the app itself
        page.goto(web.url + "/table/demo.photos/gallery/small?n=6")
        with page.expect_navigation():
            page.click("#compute")
        assert loaded(page) == 6

        # one row: every column, fileurl, the hostile title as text, nothing ran
        page.goto(web.url + "/table/demo.photos/gallery/img")
        page.click("a[href='/table/demo.photos/row/1']")
        assert page.text_content("tr[data-column=title] td:last-child") == HOSTILE[1]
        assert "s3://gallery/rot/" in (page.text_content("tr[data-column=rot] .fileurl") or "")
        assert loaded(page) == 3
        page.goto(web.url + "/table/demo.photos/row/0")
        assert page.text_content("tr[data-column=title] td:last-child") == HOSTILE[0]
        assert page.evaluate("typeof window.__pwned") == "undefined"
        shot(page, "row")
        page.goto(web.url + "/table/demo.photos/row/29")
        assert "errortype" in (page.text_content("tr[data-column=rot]") or "")
        assert page.locator("tr[data-column=rot] .failed").count() == 1


def test_serve_refuses_what_it_does_not_serve(photos: pxt.Table, tmp_path: Path) -> None:
    photos.materialize(["small"], rowids=[0])
    with WebServer() as web:
        assert status(web.url + "/table/demo.photos/cell") == 404
        small = [src for src in _srcs(web.url + "/table/demo.photos/gallery/small?n=1")][0]
        assert src_ok(web.url + small)
        folder = str(tmp_path / "small")
        for path in ["/..%2f..%2fetc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/etc/passwd", f"{folder}/../photos/p00.jpg",
                     f"{folder}/%2e%2e/photos/p00.jpg", f"{folder}/", "/table/..%2fdemo.photos",
                     "/table/demo.photos/row/999", "/table/demo.photos/gallery/title", "/cell/demo.photos/img/999",
                     "/cell/demo.photos/title/1", "/cell/demo.photos/rot/5", str(tmp_path / "photos" / "p00.jpg"),
                     "/nothing"]:
            assert status(web.url + path) == 404, path
        assert status(web.url + "/", headers={"Host": "evil.example:80"}) == 403
        compute = web.url + "/table/demo.photos/compute"
        form = b"column=rot&page=1&n=2"
        assert status(compute, "POST", {"Origin": "http://evil.example"}, form) == 403
        assert status(compute, "DELETE") == 501 and status(web.url + "/table/demo.photos", "PUT") == 501
        assert stored("demo/photos/rot") == 0  # nothing computed


def stored(column: str) -> int:
    """Cells of a pxfs:// column that hold a file (owed ones are listed too, as owed)."""
    import fsspec

    return sum(1 for e in fsspec.filesystem("pxfs", skip_instance_cache=True).ls(column) if not e["owed"])


def _srcs(url: str) -> list[str]:
    import re

    with _NO_PROXY.open(url, timeout=30) as r:
        return re.findall(r'<img[^>]* src="([^"]+)"', r.read().decode())


def src_ok(url: str) -> bool:
    return status(url) == 200 and status(url, headers={"Range": "bytes=0-9"}) == 206


def test_repr_html_in_chromium(page: Any, shot: Any, http_server: HttpFileServer, tmp_path: Path) -> None:
    web_img = write_image(tmp_path / "web.png", "PNG", seed=5, size=(400, 300))
    n = 60
    rs = ResultSet(["img", "title", "url"], {
        "img": [sample_image(300, 200, seed=i) for i in range(n)],
        "title": [HOSTILE[i % 2] for i in range(n)],
        "url": [http_server.url_for(web_img.name) + "?x=<b>"] + [None] * (n - 1),
    })
    t = pxt.create_table("notebook", {"img": pxt.Image, "note": pxt.String})
    t.insert([{"img": str(web_img), "note": HOSTILE[0]}])
    t.add_computed_column(rot=t.img.rotate(90))
    page.set_content(f"<html><body>{rs._repr_html_()}<hr>{t._repr_html_()}</body></html>")
    assert loaded(page) == 50 + 1 + 1  # bounded rows; the URL column; the table's preview
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.locator("table.pxfs-result tbody tr").count() == 50 + 1
    assert "10 more rows" in page.text_content("body")
    titles = page.eval_on_selector_all("table.pxfs-result tbody tr td:nth-child(2)",
                                       "els => els.map(e => e.textContent)")
    assert titles[:2] == HOSTILE
    sizes = page.eval_on_selector_all("img", "els => els.map(e => [e.clientWidth, e.clientHeight])")
    assert all(0 < w <= 128 and 0 < h <= 128 for w, h in sizes)
    assert stored("notebook/rot") == 0  # the repr computed nothing
    page.set_viewport_size({"width": 900, "height": 700})
    shot(page, "notebook")
