"""The ``pxfs`` command line: every command, on local folders, moto S3 and Azurite.

Commands run in-process through ``pxfs.cli.main(argv)`` (same ``PXFS_HOME``), except
``serve`` and the console-script checks, which run ``pxfs`` as a user would.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

import pxfs as pxt
from pxfs.cli import main, parse_where
from pxfs.env import Env
from pxfs.session import Session

from .destinations import configure
from .images import write_image

COMMANDS = ["ls", "info", "url", "materialize", "verify", "gc", "config", "serve"]
PXFS = str(Path(sys.executable).parent / "pxfs")  # the console script of this environment


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def make_films(tmp_path: Path, n: int = 4, destination: str | None = None) -> pxt.Table:
    pxt.create_dir("demo", if_exists="ignore")
    t = pxt.create_table("demo.films", {"img": pxt.Image, "title": pxt.String, "year": pxt.Int})
    images = [write_image(tmp_path / "src" / f"film{i}.jpg", "JPEG", seed=i) for i in range(n)]
    t.insert([{"img": str(p), "title": f"film {i}", "year": 2000 + i} for i, p in enumerate(images)])
    t.add_computed_column(rot=t.img.rotate(90), destination=destination)
    return t


def fetch(url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    if url.startswith("file://"):
        return 200, Path(url[len("file://"):]).read_bytes()
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(urllib.request.Request(url, headers=headers or {}), timeout=30) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, b""


def remove_behind_pxfs(uri: str) -> None:
    """Delete an object with its storage's own client, as someone else would."""
    storage = Session.default().storage
    loc = storage.location(uri)
    fs = storage.filesystem(loc)
    fs.rm(loc.path)
    fs.invalidate_cache()


def objects(prefix: str) -> list[str]:
    storage = Session.default().storage
    loc = storage.location(prefix)
    fs = storage.filesystem(loc)
    fs.invalidate_cache()
    try:
        return sorted(str(storage.location(prefix).join(p[len(loc.path):].strip("/")).uri) for p in fs.find(loc.path))
    except FileNotFoundError:
        return []


# -- help, usage and errors -------------------------------------------------------------------

def test_help_for_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--help")
    assert code == 0 and all(c in out for c in COMMANDS)
    for command in COMMANDS:
        code, out, _ = run(capsys, command, "--help")
        assert code == 0 and out.startswith(f"usage: pxfs {command}") and "--debug" in out, command
    code, _, err = run(capsys)
    assert code == 2 and "usage: pxfs" in err
    code, _, err = run(capsys, "frobnicate")
    assert code == 2 and "invalid choice" in err
    code, _, err = run(capsys, "url", "demo.films.img", "--expires", "-5")
    assert code == 2 and "positive integer" in err


def test_errors_are_one_line_and_debug_shows_the_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    for argv, message in [
        (["info", "nope/x"], "pxfs info: error: pxfs://nope/x: no such directory, table, column or cell"),
        (["ls", "demo/../x"], "pxfs ls: error: pxfs path 'demo/../x' has a '..' segment"),
        (["verify", "nope"], "pxfs verify: error: table 'nope' does not exist"),
        (["url", "nocolumn"], "pxfs url: error: 'nocolumn': expected TABLE.COLUMN"),
    ]:
        code, out, err = run(capsys, *argv)
        assert code == 1 and out == "" and err.startswith(message) and err.count("\n") == 1, (argv, err)
    code, _, err = run(capsys, "--debug", "info", "nope/x")
    assert code == 1 and "Traceback (most recent call last)" in err and err.rstrip().endswith(
        "no such directory, table, column or cell")
    code, _, err = run(capsys, "info", "nope/x", "--debug")  # after the command too
    assert code == 1 and "Traceback" in err


def test_console_script(tmp_path: Path) -> None:
    make_films(tmp_path, n=1)
    ok = subprocess.run([PXFS, "ls", "demo/films/img"], capture_output=True, text=True, env=os.environ.copy())
    assert ok.returncode == 0 and ok.stdout == "demo/films/img/0.jpg\n"
    bad = subprocess.run([PXFS, "materialize", "demo.films", "--column", "img"], capture_output=True, text=True,
                         env=os.environ.copy())
    assert bad.returncode == 1 and bad.stdout == "" and "Traceback" not in bad.stderr
    assert bad.stderr == "pxfs materialize: error: column 'img' is not computed; materialize() computes computed columns\n"


# -- every command on every store -------------------------------------------------------------------

@pytest.fixture(params=["local", "s3", "azure"])
def store(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    prefix = configure(request.param, request, tmp_path, monkeypatch)
    monkeypatch.setenv("PXFS_INPUT_MEDIA_DEST", f"{prefix}/input")
    monkeypatch.setenv("PXFS_OUTPUT_MEDIA_DEST", f"{prefix}/output")
    Env.reset()
    return prefix


@pytest.mark.emulator
def test_every_command_on_every_store(store: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    t = make_films(tmp_path)
    # ls / info
    assert run(capsys, "ls") == (0, "demo/\n", "")
    assert run(capsys, "ls", "pxfs://demo") == (0, "demo/films/\ndemo/films.parquet\n", "")
    assert run(capsys, "ls", "demo.films")[1] == "demo/films/img/\ndemo/films/title/\ndemo/films/year/\ndemo/films/rot/\n"
    code, out, _ = run(capsys, "ls", "-l", "demo/films/rot")
    assert code == 0 and [line.split()[:2] for line in out.splitlines()] == [["-", "-"]] * 4  # owed: size unknown
    assert out.splitlines()[0].endswith("  demo/films/rot/0.png")
    code, out, _ = run(capsys, "info", "demo/films/img/1.jpg")
    fields = dict(line.split(None, 1) for line in out.splitlines())
    img_urls = t.select(t.img.fileurl).collect()["img_fileurl"]
    assert code == 0 and fields["name"] == "demo/films/img/1.jpg" and fields["uri"] == img_urls[1]
    assert fields["owed"] == "False" and int(fields["size"]) > 0 and fields["type"] == "file"
    code, out, _ = run(capsys, "info", "demo/films/rot/1.png")
    assert code == 0 and "owed    True" in out and "size    -" in out
    # url: owed cells of the rows printed are computed; --where filters; --expires signs
    code, out, _ = run(capsys, "url", "demo.films.rot", "--where", "year >= 2002 and title != 'film 3'",
                       "--expires", "600")
    (url,) = out.splitlines()
    rot = t.where(t.year == 2002).select(t.rot.fileurl).collect()[0]["rot_fileurl"]
    assert code == 0 and fetch(url) == (200, Session.default().storage.cat(rot))
    if store.startswith("s3://"):
        assert "X-Amz-Expires=600" in url
    elif store.startswith("az://"):
        assert "se=" in url and "sig=" in url
    else:
        assert url == rot and url.startswith("file://")
    assert len(run(capsys, "url", "demo/films/img")[1].splitlines()) == 4
    # materialize computes the rest
    code, _, err = run(capsys, "materialize", "demo.films", "--executor", "nope")
    assert code == 1 and "executor 'nope': expected 'threads'" in err
    assert run(capsys, "materialize", "demo.films", "--executor", "threads") == (0, "demo.films: computed 3 cell(s)\n", "")
    assert run(capsys, "materialize", "demo.films", "--column", "rot")[1] == "demo.films: computed 0 cell(s)\n"
    # verify: all there; then an object deleted behind pxfs's back is caught
    code, out, _ = run(capsys, "verify", "demo.films")
    assert (code, out) == (0, "demo.films: 8 object(s) checked: all present\n")
    victim = t.where(t.year == 2001).select(t.rot.fileurl).collect()[0]["rot_fileurl"]
    remove_behind_pxfs(victim)
    code, out, _ = run(capsys, "verify", "demo.films")
    assert code == 1 and out.splitlines() == [
        f"missing     demo.films.rot row 1: {victim}", "demo.films: 8 object(s) checked: 1 missing"]
    # gc: an orphan in a prefix pxfs writes to is listed, and only it is deleted
    storage = Session.default().storage
    orphan = storage.put(b"orphan", f"{store}/output", name=f"{t._id}_99_{'ab' * 16}.png")
    foreign = storage.put(b"not ours", f"{store}/output", name="notes.txt")
    before = objects(f"{store}/output") + objects(f"{store}/input")
    code, out, _ = run(capsys, "gc", "--min-age", "0")
    assert code == 0 and out.splitlines()[0].split()[:2] == ["6", orphan]
    assert "kept 1 object(s): not named by pxfs" in out  # notes.txt
    assert "1 orphaned object(s), 6 bytes" in out and "--apply" in out
    out = run(capsys, "gc")[1]
    assert out.splitlines()[-1].startswith("no orphaned objects") and "younger than 3600s" in out
    code, out, _ = run(capsys, "gc", "--min-age", "0", "--apply")
    assert code == 0 and out.splitlines()[-1].startswith("deleted 1 orphaned object(s), 6 bytes")
    after = objects(f"{store}/output") + objects(f"{store}/input")
    assert sorted(after) == sorted(u for u in before if u != orphan) and foreign in after
    assert run(capsys, "gc", "--min-age", "0")[1].splitlines()[-1].startswith("no orphaned objects")
    assert run(capsys, "verify", "demo.films")[0] == 1  # gc does not hide or repair the missing one
    # config shows where each value came from
    code, out, _ = run(capsys, "config")
    lines = {line.split()[0]: line.split()[1:] for line in out.splitlines()}
    assert code == 0 and lines["output_media_dest"] == [f"{store}/output", "PXFS_OUTPUT_MEDIA_DEST"]


def test_verify_reports_a_wrong_size(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    t = make_films(tmp_path, n=2, destination=str(tmp_path / "out"))
    t.materialize()
    uri = t.where(t.year == 2000).select(t.img.fileurl).collect()[0]["img_fileurl"]
    path = Path(uri[len("file://"):])
    size = path.stat().st_size
    path.write_bytes(b"short")
    code, out, _ = run(capsys, "verify", "demo.films")
    assert code == 1 and out.splitlines() == [
        f"wrong size  demo.films.img row 0: {uri}: recorded {size} bytes, found 5",
        "demo.films: 4 object(s) checked: 1 wrong size"]


def test_verify_counts_owed_cells_and_checks_only_stored_ones(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    make_films(tmp_path, n=3, destination=str(tmp_path / "out"))
    assert run(capsys, "verify", "demo.films")[1] == (
        "demo.films: 3 object(s) checked: all present; 3 owed cell(s) not computed yet\n")
    assert list((tmp_path / "out").iterdir()) == []  # verify computes nothing


def test_gc_covers_every_write_prefix_and_leftovers(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    t = make_films(tmp_path, n=2, destination=str(tmp_path / "per_column"))
    t.materialize()
    docs = pxt.create_table("bytes_only", {"doc": pxt.Document})
    docs.insert(doc=b"%PDF-1.4 kept")  # $PXFS_HOME/media
    home_media = Env.get().media_dir
    orphans = [tmp_path / "per_column" / f"{t._id}_3_{'cd' * 16}.jpg", home_media / f"{docs._id}_0_{'ef' * 16}.pdf"]
    foreign = [tmp_path / "per_column" / f"{'0' * 12}_3_{'cd' * 16}.jpg",  # another catalog's table id
               home_media / f"{'1' * 12}_0_{'ef' * 16}.pdf",
               tmp_path / "per_column" / f".{'0' * 12}_3_{'ab' * 16}.jpg.x1_y.pxfs-tmp",  # its temporary file
               tmp_path / "per_column" / ".pxfs-probe-1-2",  # whose? cannot be proven
               tmp_path / "per_column" / "mine.jpg"]  # not a pxfs name
    for p in orphans + foreign:
        p.write_bytes(b"x")
    # A local write killed between writing its temporary file and renaming it: the leftover
    # names the object it was for, so gc can prove it is this catalog's and remove it.
    target = tmp_path / "per_column" / f"{t._id}_3_{'ef' * 16}.jpg"
    killed = subprocess.run([sys.executable, "-c", (
        "import os, sys; from pxfs.storage import _writers; "
        "_writers.os.replace = lambda a, b: os._exit(9); "
        "_writers._atomic_local_write(sys.argv[1], b'half')"), str(target)])
    assert killed.returncode == 9 and not target.exists()
    orphans += [p for p in target.parent.iterdir() if p.name.endswith(".pxfs-tmp") and t._id in p.name]
    assert len(orphans) == 3
    (tmp_path / "per_column" / "sub").mkdir()
    nested = tmp_path / "per_column" / "sub" / f"{t._id}_1_{'aa' * 16}.jpg"  # not where pxfs writes
    nested.write_bytes(b"x")
    code, out, _ = run(capsys, "gc", "--min-age", "0")
    listed = sorted(line.split()[1] for line in out.splitlines() if line.split()[1].startswith("file://"))
    assert code == 0 and listed == sorted(f"file://{p}" for p in orphans)
    assert "kept 3 object(s): written by another catalog" in out
    assert "kept 1 object(s): pxfs probe files" in out and "kept 1 object(s): not named by pxfs" in out
    old = time.time() - 7200
    os.utime(orphans[0], (old, old))
    code, out, _ = run(capsys, "gc")  # default --min-age 3600: only the old one
    assert [line.split()[1] for line in out.splitlines() if "file://" in line] == [f"file://{orphans[0]}"]
    assert "kept 2 object(s): younger than 3600s" in out
    assert run(capsys, "gc", "--apply", "--min-age", "0")[0] == 0
    assert not any(p.exists() for p in orphans) and all(p.exists() for p in foreign) and nested.exists()
    assert run(capsys, "verify", "demo.films")[0] == 0 and run(capsys, "verify", "bytes_only")[0] == 0


def test_config_masks_secrets(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("PXFS_AZURE_ACCOUNT_KEY", "c2VjcmV0LWtleQ==")
    monkeypatch.setenv("PXFS_MATERIALIZE_BATCH_SIZE", "7")
    Env.reset()
    (Env.get().home / "config.toml").write_text(
        '[pxfs]\nretries = 3\n[pxfs.public_urls]\n"/srv/media" = "https://cdn.example.com/m"\n')
    pxt.init({"request_timeout": 5})
    code, out, _ = run(capsys, "config")
    rows = {line.split()[0]: line.split()[1:] for line in out.splitlines()}
    assert code == 0 and "c2VjcmV0LWtleQ==" not in out
    assert rows["azure_account_key"] == ["****", "PXFS_AZURE_ACCOUNT_KEY"]
    assert rows["materialize_batch_size"] == ["7", "PXFS_MATERIALIZE_BATCH_SIZE"]
    assert rows["retries"][0] == "3" and rows["retries"][1].endswith("config.toml")
    assert rows["request_timeout"] == ["5.0", "pxfs.init()"]
    assert rows["upload_concurrency"] == ["-", "default"] and rows["home"] == [str(Env.get().home), "PXFS_HOME"]
    assert rows["public_urls./srv/media"][0] == "https://cdn.example.com/m"


# -- url --where ---------------------------------------------------------------------------------

def test_where_parser_builds_predicates_and_never_evaluates(tmp_path: Path) -> None:
    t = make_films(tmp_path, n=5)
    t.add_column(rating=pxt.Float)

    def rows(text: str) -> list[int]:
        return t.where(parse_where(t, text)).order_by(t.year).select(t.year).collect()["year"]

    assert rows("year >= 2003") == [2003, 2004]
    assert rows("year = 2001 or year == 2003") == [2001, 2003]
    assert rows("year > 2000 and year < 2004 and not year == 2002") == [2001, 2003]
    assert rows("year == 2000 or year == 2004 and title == 'film 4'") == [2000, 2004]  # and binds tighter
    assert rows("(year == 2000 or year == 2004) and title == \"film 4\"") == [2004]
    assert rows("title != 'film 1' and year <> 2002 and year <= 2003") == [2000, 2003]
    assert rows("rating == null") == [2000, 2001, 2002, 2003, 2004]
    assert rows("rating != NULL") == [] and rows("year >= 2.0e3") == list(range(2000, 2005))
    assert rows("img.fileurl != null AND title == 'film 1'") == [2001]  # keywords in any case
    assert rows("title == 'it\\'s' or title == \"film \\\"2\\\"\"") == []  # backslash escapes
    assert rows("rot.errormsg == null and year < 2001") == [2000]
    for bad, message in [
        ("year >", "expected a literal, got the end"),
        ("year", "expected a comparison operator"),
        ("2000 < year", "expected a column name"),
        ("year == 2000 year == 2001", "unexpected 'year'"),
        ("__import__('os').system('x') == 1", "cannot read"),
        ("year == title", "expected a literal"),
        ("nope == 1", "has no column 'nope'"),
        ("img.width == 3", "only fileurl, errormsg, errortype"),
        ("(year == 2000", "expected )"),
        ("year == 1; drop table x", "cannot read"),
        ("", "empty expression"),
    ]:
        with pytest.raises(ValueError, match=re.escape(message)):
            parse_where(t, bad)


# -- serve -----------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_makes_url_of_local_media_fetchable(tmp_path: Path) -> None:
    out = tmp_path / "out"
    t = make_films(tmp_path, n=2, destination=str(out))
    t.materialize()
    pxt.create_table("bytes_only", {"doc": pxt.Document}).insert(doc=b"%PDF-1.4 served")
    port = free_port()
    (Env.get().home / "config.toml").write_text(
        f'[pxfs.public_urls]\n"{out}" = "http://127.0.0.1:{port}/media"\n')
    pxt.init()
    urls = t.select(t.rot.url, t.rot.fileurl).collect()
    assert all(u.startswith(f"http://127.0.0.1:{port}/media/") for u in urls["rot_url"])
    server = subprocess.Popen([PXFS, "serve"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=os.environ.copy())
    try:
        assert server.stdout is not None
        first = server.stdout.readline()
        assert first == f"serving local media on http://127.0.0.1:{port} (Ctrl-C to stop)\n", first
        lines = [server.stdout.readline() for _ in range(5)]
        home_media = Env.get().media_dir
        assert f"  http://127.0.0.1:{port}/media/ -> {out}\n" in lines
        assert f'"{home_media}" = "http://127.0.0.1:{port}{home_media}"\n' in lines
        for url, fileurl in zip(urls["rot_url"], urls["rot_fileurl"]):
            assert fetch(url) == (200, Path(fileurl[len("file://"):]).read_bytes())
        data = Path(urls["rot_fileurl"][0][len("file://"):]).read_bytes()
        assert fetch(urls["rot_url"][0], {"Range": "bytes=2-9"}) == (206, data[2:10])
        assert fetch(urls["rot_url"][0], {"Range": "bytes=-4"}) == (206, data[-4:])
        assert fetch(urls["rot_url"][0], {"Range": f"bytes={len(data)}-"})[0] == 416
        # unmapped local destinations are served at their absolute path
        doc = pxt.get_table("bytes_only").select(pxt.get_table("bytes_only").doc.fileurl).collect()[0]["doc_fileurl"]
        assert fetch(f"http://127.0.0.1:{port}{doc[len('file://'):]}") == (200, b"%PDF-1.4 served")
        for path in ["/media/../config.toml", "/media/%2e%2e/config.toml", f"{out}/../src/film0.jpg",
                     "/media/", "/etc/passwd", "/media/nope.jpg", f"{home_media}/../catalog.duckdb"]:
            assert fetch(f"http://127.0.0.1:{port}{path}")[0] == 404, path
        (out / ".hidden").write_bytes(b"x")
        assert fetch(f"http://127.0.0.1:{port}/media/.hidden")[0] == 404
        req = urllib.request.Request(urls["rot_url"][0], method="HEAD")
        with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(req, timeout=10) as r:
            assert r.headers["Content-Length"] == str(len(data)) and r.headers["Content-Type"] == "image/jpeg"
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_serve_with_nothing_local_still_starts(tmp_path: Path) -> None:
    port = free_port()
    server = subprocess.Popen([PXFS, "serve", "--port", str(port)], stdout=subprocess.PIPE, text=True,
                              env=os.environ.copy())
    try:
        assert server.stdout is not None
        assert server.stdout.readline() == f"serving local media on http://127.0.0.1:{port} (Ctrl-C to stop)\n"
        assert fetch(f"http://127.0.0.1:{port}/anything")[0] == 404
    finally:
        server.terminate()
        server.wait(timeout=10)
