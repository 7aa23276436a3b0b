"""The ``pxfs://`` filesystem: namespace, reads, owed cells, snapshots, the one write, refusals.

Every operation runs on tables whose media sit in a local folder, in moto S3 and in
Azurite (the ``store`` fixture). fsspec semantics (find, glob, walk, du, ls, get) are
checked against fsspec's own LocalFileSystem on a mirror of the same tree: fsspec's
abstract test suite (``fsspec.tests.abstract``) builds its scenarios with ``touch`` and
``makedirs`` and names files ``file1``/``subfile1``, which a read-only namespace of
``<rowid>.<ext>`` files cannot hold, so its read-side expectations are restated here on
pxfs's own tree (see ``test_get_*`` and ``test_glob_find_walk_match_fsspec_local``).
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path
from typing import Any

import duckdb
import fsspec
import pandas as pd
import pytest
from fsspec.implementations.local import LocalFileSystem
from PIL import Image

import pxfs as pxt
from pxfs.env import Env
from pxfs.session import Session
from pxfs.fs import PxfsFileSystem

from .destinations import configure
from .images import write_image

STORES = ["local", "s3", "azure"]


# -- fixtures and helpers -------------------------------------------------------------------

@pytest.fixture(params=STORES)
def store(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """pxfs configured so inserted and computed media go to `kind`; returns the prefix."""
    prefix = configure(request.param, request, tmp_path, monkeypatch)
    monkeypatch.setenv("PXFS_INPUT_MEDIA_DEST", f"{prefix}/input")
    monkeypatch.setenv("PXFS_OUTPUT_MEDIA_DEST", f"{prefix}/output")
    Env.reset()
    return prefix


def make_films(tmp_path: Path, n: int = 4) -> pxt.Table:
    pxt.create_dir("demo", if_exists="ignore")
    t = pxt.create_table("demo.films", {"img": pxt.Image, "title": pxt.String, "year": pxt.Int})
    images = [write_image(tmp_path / "src" / f"film{i}.jpg", "JPEG", seed=i) for i in range(n)]
    t.insert([{"img": str(p), "title": f"film {i}", "year": 2000 + i} for i, p in enumerate(images)])
    t.add_computed_column(rot=t.img.rotate(90))
    return t


def objects(prefix: str) -> list[str]:
    """Every object under a destination prefix, straight from its storage."""
    storage = Session.default().storage
    loc = storage.location(prefix)
    fs = storage.filesystem(loc)
    fs.invalidate_cache()
    try:
        return sorted(fs.find(loc.path))
    except FileNotFoundError:
        return []


def canon(prefix: str) -> str:
    """The canonical URI pxfs records for a destination prefix (``file:///...`` for folders)."""
    return str(Session.default().storage.location(prefix).uri)


def owed(fs: PxfsFileSystem, column_dir: str) -> list[str]:
    return [e["name"] for e in fs.ls(column_dir) if e["owed"]]


@pytest.fixture
def fs() -> PxfsFileSystem:
    return fsspec.filesystem("pxfs")  # type: ignore[no-any-return]


# -- registration -----------------------------------------------------------------------------

def test_registered_through_the_entry_point_without_importing_pxfs(tmp_path: Path) -> None:
    write_image(tmp_path / "a.jpg", "JPEG")
    t = pxt.create_table("plain", {"img": pxt.Image})
    t.insert(img=str(tmp_path / "a.jpg"))
    script = textwrap.dedent("""
        import sys, fsspec
        assert "pxfs" not in sys.modules
        fs = fsspec.filesystem("pxfs")
        print(type(fs).__module__, fs.ls("pxfs://plain/img", detail=False))
        with fsspec.open("pxfs://plain/img/0.jpg") as f:
            print(len(f.read()))
        import duckdb, pandas
        duckdb.register_filesystem(fsspec.filesystem("pxfs"))  # the documented one-liner
        print(duckdb.sql("select img from read_parquet('pxfs://plain.parquet')").fetchall()[0][0])
        print(pandas.read_parquet("pxfs://plain.parquet")["img"][0])
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=os.environ.copy(),
                         check=True)
    fileurl = f"file://{tmp_path / 'a.jpg'}"
    assert out.stdout.split("\n")[:4] == [
        "pxfs.fs._filesystem ['plain/img/0.jpg']", str((tmp_path / "a.jpg").stat().st_size), fileurl, fileurl]
    assert PxfsFileSystem.protocol == "pxfs" and isinstance(fsspec.filesystem("pxfs"), PxfsFileSystem)


# -- the namespace, on every store --------------------------------------------------------------

@pytest.mark.emulator
def test_listing_info_and_reads_on_every_store(store: str, tmp_path: Path, fs: PxfsFileSystem) -> None:
    t = make_films(tmp_path)
    assert fs.ls("pxfs://", detail=False) == ["demo"]
    assert fs.ls("pxfs://demo", detail=False) == ["demo/films", "demo/films.parquet"]
    assert fs.ls("pxfs://demo/films/", detail=False) == [
        "demo/films/img", "demo/films/title", "demo/films/year", "demo/films/rot"]
    assert fs.ls("pxfs://demo/films/title") == []  # scalar values are in the snapshot
    cells = fs.ls("pxfs://demo/films/img")
    assert [c["name"] for c in cells] == [f"demo/films/img/{i}.jpg" for i in range(4)]
    fileurls = t.select(t.img.fileurl).collect()["img_fileurl"]
    assert [c["uri"] for c in cells] == fileurls and all(u.startswith(_scheme(store)) for u in fileurls)
    assert {c["type"] for c in cells} == {"file"} and all(c["size"] > 0 and not c["owed"] for c in cells)
    # info / exists / size / isdir / isfile
    info = fs.info("pxfs://demo/films/img/2.jpg")
    assert info["size"] == len(Session.default().storage.cat(fileurls[2])) and info["rowid"] == 2
    assert fs.size("pxfs://demo/films/img/2.jpg") == info["size"]
    assert fs.info("pxfs://demo/films")["type"] == "directory" and fs.info("pxfs://demo/films")["version"] == t.version
    assert fs.exists("pxfs://demo/films/img/3.jpg") and not fs.exists("pxfs://demo/films/img/4.jpg")
    assert fs.isdir("pxfs://demo/films/img") and fs.isfile("pxfs://demo/films.parquet")
    assert not fs.isdir("pxfs://demo/films.parquet") and not fs.isfile("pxfs://nothing")
    # cat_file with ranges, and a seekable open
    data = Session.default().storage.cat(fileurls[1])
    assert fs.cat_file("pxfs://demo/films/img/1.jpg") == data
    assert fs.cat_file("pxfs://demo/films/img/1.jpg", start=2, end=10) == data[2:10]
    assert fs.cat_file("pxfs://demo/films/img/1.jpg", start=-5) == data[-5:]
    assert fs.cat_file("pxfs://demo/films/img/1.jpg", start=10, end=-10) == data[10:-10]
    assert fs.cat_file("pxfs://demo/films/img/1.jpg", start=len(data) + 5) == b""
    assert fs.cat_ranges(["pxfs://demo/films/img/1.jpg"] * 2, [0, 3], [3, 6]) == [data[:3], data[3:6]]
    with fs.open("pxfs://demo/films/img/1.jpg", "rb") as f:
        assert f.seekable() and f.size == len(data)
        f.seek(-4, io.SEEK_END)
        assert f.read() == data[-4:]
        f.seek(7)
        assert f.read(5) == data[7:12] and f.tell() == 12
    assert fs.read_block("pxfs://demo/films/img/1.jpg", 4, 6) == data[4:10]
    # find / glob / walk / du
    assert fs.find("pxfs://demo/films/img") == [f"demo/films/img/{i}.jpg" for i in range(4)]
    assert fs.glob("pxfs://demo/*/img/[12].jpg") == ["demo/films/img/1.jpg", "demo/films/img/2.jpg"]
    assert fs.glob("pxfs://**/*.parquet") == ["demo/films.parquet"]
    walked = list(fs.walk("pxfs://demo/films"))
    assert walked[0] == ("demo/films", ["img", "title", "year", "rot"], [])
    assert ("demo/films/img", [], [f"{i}.jpg" for i in range(4)]) in walked
    assert fs.du("pxfs://demo/films/img") == sum(c["size"] for c in cells)
    # nothing above computed a cell of rot
    assert len(owed(fs, "pxfs://demo/films/rot")) == 4 and objects(f"{store}/output") == []
    # get copies files out like any fsspec filesystem
    fs.get("pxfs://demo/films/img/", str(tmp_path / "copy"), recursive=True)
    assert sorted(p.name for p in (tmp_path / "copy").iterdir()) == [f"{i}.jpg" for i in range(4)]
    assert (tmp_path / "copy" / "1.jpg").read_bytes() == data


def _scheme(store: str) -> str:
    return "file://" if "://" not in store else store.split("://")[0] + "://"


@pytest.mark.emulator
def test_reading_an_owed_cell_computes_exactly_that_cell(store: str, tmp_path: Path, fs: PxfsFileSystem) -> None:
    t = make_films(tmp_path)
    out = f"{store}/output"
    assert objects(out) == []
    info = fs.info("pxfs://demo/films/rot/2.png")
    assert info["owed"] is True and info["size"] is None and info["uri"] is None
    assert objects(out) == []  # info computes nothing
    with fsspec.open("pxfs://demo/films/rot/2.png", "rb") as f:
        data = f.read()
    assert len(objects(out)) == 1  # exactly that cell
    assert owed(fs, "pxfs://demo/films/rot") == [f"demo/films/rot/{i}.png" for i in (0, 1, 3)]
    img = Image.open(io.BytesIO(data))
    src = Image.open(io.BytesIO(fs.cat_file("pxfs://demo/films/img/2.jpg")))
    assert img.size == src.rotate(90).size and img.format == "JPEG"
    # the computed cell now has its real extension; the name it was listed under still reads
    assert "demo/films/rot/2.jpg" in fs.ls("pxfs://demo/films/rot", detail=False)
    assert fs.cat_file("pxfs://demo/films/rot/2.jpg") == data == fs.cat_file("pxfs://demo/films/rot/2.png")
    computed = fs.info("pxfs://demo/films/rot/2.jpg")
    assert computed["owed"] is False and computed["size"] == len(data)
    assert computed["uri"] == t.where(t.year == 2002).select(t.rot.fileurl).collect()["rot_fileurl"][0]
    assert len(objects(out)) == 1


@pytest.mark.emulator
def test_parquet_snapshots_read_in_pandas_and_duckdb(store: str, tmp_path: Path, fs: PxfsFileSystem) -> None:
    t = make_films(tmp_path)
    v_before_rot = t.version - 1  # the insert, before the computed column was added
    t.insert(img=str(write_image(tmp_path / "late.jpg", "JPEG", seed=9)), title="late", year=2020)
    df = pd.read_parquet("pxfs://demo/films.parquet")  # computes the owed cells, like any read
    rs = t.collect()
    urls = t.select(t.img.fileurl, t.rot.fileurl).collect()
    assert list(df.columns) == ["img", "title", "year", "rot"]
    assert df["title"].tolist() == rs["title"] and df["year"].tolist() == rs["year"]
    assert df["img"].tolist() == urls["img_fileurl"] and df["rot"].tolist() == urls["rot_fileurl"]
    assert None not in df["rot"].tolist() and owed(fs, "pxfs://demo/films/rot") == []
    con = duckdb.connect()
    con.register_filesystem(fsspec.filesystem("pxfs"))
    rows = con.execute("select img, title, year, rot from read_parquet('pxfs://demo/films.parquet')").fetchall()
    assert rows == list(zip(urls["img_fileurl"], rs["title"], rs["year"], urls["rot_fileurl"]))
    old = con.execute(f"select * from read_parquet('pxfs://demo/films@{v_before_rot}.parquet')").fetchdf()
    pinned = pxt.get_table(f"demo.films:{v_before_rot}").select(t.img.fileurl, t.title).collect()
    assert list(old.columns) == ["img", "title", "year"] and old["title"].tolist() == pinned["title"]
    assert old["img"].tolist() == pinned["img_fileurl"] and len(old) == 4
    assert fs.info("pxfs://demo/films.parquet")["size"] == len(fs.cat_file("pxfs://demo/films.parquet"))
    assert fs.ls("pxfs://demo/films.parquet")[0]["size"] is None  # listings never build snapshots


@pytest.mark.emulator
def test_put_and_pipe_insert_rows(store: str, tmp_path: Path, fs: PxfsFileSystem) -> None:
    t = make_films(tmp_path, n=2)
    new = write_image(tmp_path / "new.jpg", "JPEG", seed=5)
    version = t.version
    fs.put(str(new), "pxfs://demo/films/img/")
    assert t.count() == 3 and t.version == version + 1
    row = t.order_by(t.year).select(t.img.fileurl, t.title, t.year).collect()[2]
    assert row["title"] is None and row["year"] is None and row["img_fileurl"].startswith(canon(f"{store}/input/"))
    assert fs.cat_file("pxfs://demo/films/img/2.jpg") == new.read_bytes()
    fs.pipe("pxfs://demo/films/img/anything.jpg", new.read_bytes())
    assert fs.ls("pxfs://demo/films/img", detail=False)[-1] == "demo/films/img/3.jpg"
    # many files: one version, and all or nothing
    for i in range(3):
        write_image(tmp_path / "batch" / f"b{i}.png", "PNG", seed=i)
    version = t.version
    fs.put(str(tmp_path / "batch" / "*.png"), "pxfs://demo/films/img/")
    assert t.count() == 7 and t.version == version + 1
    (tmp_path / "batch" / "broken.png").write_bytes(b"not an image")
    with pytest.raises(pxt.DataError, match="not an image"):
        fs.put(str(tmp_path / "batch" / "*.png"), "pxfs://demo/films/img/")
    assert t.count() == 7
    # the new rows are owed cells of rot, computed when read
    assert owed(fs, "pxfs://demo/films/rot")[-1] == "demo/films/rot/6.png"


# -- the one write, and every other write refused (local store) -----------------------------------

def test_every_other_write_is_refused(tmp_path: Path, fs: PxfsFileSystem) -> None:
    make_films(tmp_path, n=1)
    img = write_image(tmp_path / "x.jpg", "JPEG")
    refused = [
        (lambda: fs.rm("pxfs://demo/films/img/0.jpg"), "cannot remove"),
        (lambda: fs.rm("pxfs://demo", recursive=True), "cannot remove"),
        (lambda: fs.rm_file("pxfs://demo/films/img/0.jpg"), "cannot remove"),
        (lambda: fs.rmdir("pxfs://demo"), "drop_dir"),
        (lambda: fs.mkdir("pxfs://demo/new"), "create_dir"),
        (lambda: fs.makedirs("pxfs://demo/new"), "create_dir"),
        (lambda: fs.mv("pxfs://demo/films/img/0.jpg", "pxfs://demo/films/img/9.jpg"), "move"),
        (lambda: fs.copy("pxfs://demo/films/img/0.jpg", "pxfs://demo/films/img/9.jpg"), "copy"),
        (lambda: fs.cp_file("pxfs://demo/films/img/0.jpg", "pxfs://demo/films/img/9.jpg"), "copy"),
        (lambda: fs.touch("pxfs://demo/films/img/9.jpg"), "touch"),
        (lambda: fs.open("pxfs://demo/films/img/9.jpg", "wb"), "read-only"),
        (lambda: fs.open("pxfs://demo/films/img/0.jpg", "ab"), "read-only"),
        (lambda: fs.open("pxfs://demo/films/img/0.jpg", "w"), "read-only"),
        (lambda: fs.pipe("pxfs://demo/films/img/0.jpg", b"x"), "existing cells are read-only"),
        (lambda: fs.pipe("pxfs://demo/films.parquet", b"x"), "snapshot of table 'demo.films' is read-only"),
        (lambda: fs.pipe("pxfs://demo/films@1.parquet", b"x"), "snapshot"),
        (lambda: fs.pipe("pxfs://demo/films/rot/new.jpg", img.read_bytes()), "computed column"),
        (lambda: fs.pipe("pxfs://demo/films/title/new.txt", b"x"), "holds String values"),
        (lambda: fs.pipe("pxfs://demo/new.jpg", b"x"), "directory 'demo' is read-only"),
        (lambda: fs.pipe("pxfs://demo/films/new.jpg", b"x"), "table 'demo.films'"),
        (lambda: fs.put(str(img), "pxfs://demo/"), "read-only"),
        (lambda: fs.put(str(img), "pxfs://x.jpg"), "read-only"),
    ]
    for call, message in refused:
        with pytest.raises(PermissionError, match=message):
            call()
    with pytest.raises(IsADirectoryError, match="column directory"):
        fs.pipe("pxfs://demo/films/img", b"x")
    with pytest.raises(FileNotFoundError, match="pxfs://demo/nope/img"):
        fs.pipe("pxfs://demo/nope/img/a.jpg", img.read_bytes())
    assert pxt.get_table("demo.films").count() == 1 and pxt.list_dirs() == ["demo"]


def test_put_without_input_dest_keeps_the_bytes_not_the_local_file(tmp_path: Path, fs: PxfsFileSystem) -> None:
    t = pxt.create_table("docs", {"doc": pxt.Document})
    src = tmp_path / "paper.pdf"
    src.write_bytes(b"%PDF-1.4 a tiny document")
    fs.put(str(src), "pxfs://docs/doc/paper.pdf")
    src.unlink()  # a copy was stored: the row does not depend on the local file
    assert fs.ls("pxfs://docs/doc", detail=False) == ["docs/doc/0.pdf"]
    assert fs.cat_file("pxfs://docs/doc/0.pdf") == b"%PDF-1.4 a tiny document"
    assert t.select(t.doc.fileurl).collect()[0]["doc_fileurl"].startswith(f"file://{Env.get().media_dir}/")


# -- paths are validated --------------------------------------------------------------------

@pytest.mark.parametrize("path, error, message", [
    ("pxfs://demo/../etc/passwd", ValueError, "'..' segment"),
    ("pxfs://demo/films/img/../../../etc", ValueError, "'..' segment"),
    ("pxfs://../x", ValueError, "'..' segment"),
    ("pxfs://./demo", ValueError, "'.' segment"),
    ("pxfs://demo//films", ValueError, "empty segment"),
    ("pxfs:///etc/passwd", ValueError, "absolute"),
    ("/demo/films", ValueError, "absolute"),
    ("pxfs://nope", FileNotFoundError, "pxfs://nope: no such"),
    ("pxfs://demo/nope/img/0.jpg", FileNotFoundError, "pxfs://demo/nope/img/0.jpg"),
    ("pxfs://demo/films/nope", FileNotFoundError, "has no column 'nope'"),
    ("pxfs://demo/films/img/9.jpg", FileNotFoundError, "no file '9.jpg'"),
    ("pxfs://demo/films/img/0.png", FileNotFoundError, "no file '0.png'"),
    ("pxfs://demo/films/img/00.jpg", FileNotFoundError, "<rowid>.<extension>"),
    ("pxfs://demo/films@99.parquet", FileNotFoundError, "versions 1 to"),
    ("pxfs://demo/films@0.parquet", FileNotFoundError, "pxfs://demo/films@0.parquet"),
    ("pxfs://demo.films", FileNotFoundError, "pxfs://demo.films"),
])
def test_paths_are_validated(path: str, error: type[Exception], message: str, tmp_path: Path,
                             fs: PxfsFileSystem) -> None:
    make_films(tmp_path, n=1)
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "passwd").write_text("secret")
    for op in (fs.info, fs.ls, fs.cat_file, fs.open):
        with pytest.raises(error, match=message):
            op(path)
    if error is ValueError:
        with pytest.raises(ValueError, match=message):
            fs.exists(path)
        with pytest.raises(ValueError, match=message):
            fs.find(path)
        with pytest.raises(ValueError, match=message):
            fs.glob(path + "/*")
    else:
        assert not fs.exists(path) and fs.find(path) == []


def test_failed_and_null_cells_have_no_file(tmp_path: Path, fs: PxfsFileSystem) -> None:
    good = write_image(tmp_path / "good.jpg", "JPEG")
    bad = tmp_path / "bad.jpg"
    data = good.read_bytes()
    bad.write_bytes(data[: len(data) // 2])  # a valid header, then half the pixels
    t = pxt.create_table("f", {"img": pxt.Image, "n": pxt.Int})
    t.insert([{"img": str(good), "n": 1}, {"img": str(bad), "n": 2}, {"n": 3}])
    t.add_computed_column(rot=t.img.rotate(90), destination=str(tmp_path / "out"))
    assert fs.ls("pxfs://f/img", detail=False) == ["f/img/0.jpg", "f/img/1.jpg"]  # row 2 is null
    assert owed(fs, "pxfs://f/rot") == ["f/rot/0.png", "f/rot/1.png", "f/rot/2.png"]
    with pytest.raises(OSError, match=r"pxfs://f/rot/1.png: computing the cell failed: OSError"):
        fs.cat_file("pxfs://f/rot/1.png")
    with pytest.raises(FileNotFoundError, match="holds no media"):
        fs.cat_file("pxfs://f/rot/2.png")
    assert fs.ls("pxfs://f/rot", detail=False) == ["f/rot/0.png"]  # still owed: only row 0
    assert fs.cat_file("pxfs://f/rot/0.png")[:3] == b"\xff\xd8\xff"
    assert fs.ls("pxfs://f/rot", detail=False) == ["f/rot/0.jpg"]
    assert not fs.exists("pxfs://f/rot/1.png")


# -- fsspec semantics: compared with fsspec's LocalFileSystem on a mirror of the tree -----------

@pytest.fixture
def tree(tmp_path: Path, fs: PxfsFileSystem) -> tuple[Path, LocalFileSystem]:
    """A pxfs tree with nested dirs, empty dirs and snapshots, and its copy on local disk."""
    make_films(tmp_path, n=3)
    pxt.create_dir("demo.sub")
    clips = pxt.create_table("demo.sub.clips", {"doc": pxt.Document})
    clips.insert([{"doc": b"%PDF-1.4 one"}, {"doc": b"%PDF-1.4 two"}])
    pxt.create_table("top", {"img": pxt.Image})  # no rows: an empty media column
    pxt.get_table("demo.films").materialize()
    mirror = tmp_path / "mirror"
    local = LocalFileSystem(auto_mkdir=True)  # as fsspec.tests.abstract configures it
    for name, info in fs.find("", withdirs=True, detail=True).items():
        if info["type"] == "directory":
            (mirror / name).mkdir(parents=True, exist_ok=True)
        else:
            (mirror / name).parent.mkdir(parents=True, exist_ok=True)
            (mirror / name).write_bytes(fs.cat_file(name))
    return mirror, local


def _rel(names: Any, root: Path) -> Any:
    """Local names relative to the mirror's root; the root itself (which fsspec lists when
    a pattern starts at a non-root directory) is left out, as pxfs's root has no name."""
    prefix = root.as_posix() + "/"
    if isinstance(names, dict):
        return {_rel([k], root)[0]: v for k, v in names.items() if k != root.as_posix()}
    return [n[len(prefix):] if n.startswith(prefix) else n for n in names if n != root.as_posix()]


GLOBS = ["*", "**", "*/*", "demo/*", "demo/**", "demo/*/", "**/*.jpg", "**/*.parquet", "demo/films/*/",
         "demo/films/img/?.jpg", "demo/films/img/[01].jpg", "demo/films/img/[!0].jpg", "demo/**/*.pdf",
         "**/img", "**/img/*", "demo/sub/clips/doc/*", "top/**", "demo/films/title/*", "nothing/*"]


def test_glob_find_walk_match_fsspec_local(tree: tuple[Path, LocalFileSystem], fs: PxfsFileSystem) -> None:
    mirror, local = tree
    for pattern in GLOBS:
        for maxdepth in (None, 1, 2):
            assert fs.glob(pattern, maxdepth=maxdepth) == _rel(
                local.glob(f"{mirror}/{pattern}", maxdepth=maxdepth), mirror), (pattern, maxdepth)
    for path in ["", "demo", "demo/films", "demo/films/img", "top", "demo/films/img/0.jpg"]:
        for maxdepth in (None, 1, 2, 3):
            for withdirs in (False, True):
                assert fs.find(path, maxdepth=maxdepth, withdirs=withdirs) == _rel(
                    local.find(f"{mirror}/{path}".rstrip("/"), maxdepth=maxdepth, withdirs=withdirs), mirror
                ), (path, maxdepth, withdirs)
        theirs = [(os.path.relpath(r, mirror).replace(".", "", r == mirror.as_posix()), d, f)
                  for r, d, f in local.walk(f"{mirror}/{path}".rstrip("/"))]
        assert sorted((r, sorted(d), sorted(f)) for r, d, f in fs.walk(path)) == sorted(
            (r, sorted(d), sorted(f)) for r, d, f in theirs), path  # the same steps, in listing order
        assert sorted(fs.ls(path, detail=False)) == sorted(_rel(local.ls(f"{mirror}/{path}".rstrip("/"),
                                                                          detail=False), mirror)), path
        assert fs.isdir(path) == local.isdir(f"{mirror}/{path}") and fs.isfile(path) == local.isfile(
            f"{mirror}/{path}")
    assert sorted(fs.expand_path("demo/films", recursive=True)) == sorted(
        _rel(local.expand_path(f"{mirror}/demo/films", recursive=True), mirror))
    # du: the same keys; sizes where pxfs knows them without building a snapshot
    ours_du = fs.du("demo", total=False)
    theirs = _rel(local.du(f"{mirror}/demo", total=False), mirror)
    assert sorted(ours_du) == sorted(theirs)
    assert all(ours_du[k] == theirs[k] for k in ours_du if not k.endswith(".parquet"))
    assert ours_du["demo/films.parquet"] is None
    assert fs.du("demo") == sum(v for k, v in theirs.items() if not k.endswith(".parquet"))
    assert fs.info("demo/films/img/1.jpg")["size"] == local.info(f"{mirror}/demo/films/img/1.jpg")["size"]


# The read-side scenarios of fsspec.tests.abstract.get.AbstractGetTests (1a-1e, globs, lists),
# on pxfs's own tree: each `get` must leave the same files as LocalFileSystem.get from the mirror.

GETS: list[tuple[str, Any, Any, dict[str, Any]]] = [
    ("1a file to existing dir", "demo/films/img/1.jpg", "", {}),
    ("1a with trailing slash", "demo/sub/clips/doc/0.pdf", "/", {}),
    ("1b file to new dir", "demo/films/img/2.jpg", "newdir/", {}),
    ("1c file to file", "demo/films/img/2.jpg", "newfile", {}),
    ("1d file to file in new dir", "demo/films/img/2.jpg", "newdir/newfile", {}),
    ("1e dir, not recursive", "demo/sub", "", {}),
    ("1e dir recursive", "demo/sub", "", {"recursive": True}),
    ("1e dir/ recursive", "demo/sub/", "", {"recursive": True}),
    ("1e dir recursive maxdepth 1", "demo/sub", "", {"recursive": True, "maxdepth": 1}),
    ("1e dir/ recursive maxdepth 2", "demo/films/", "", {"recursive": True, "maxdepth": 2}),
    ("1e dir to new dir", "demo/films", "newdir/", {"recursive": True}),
    ("dir and file with the same name prefix", "demo/films", "", {"recursive": True}),
    ("glob to existing dir", "demo/films/img/[12].jpg", "", {}),
    ("glob to new dir", "demo/*/clips/doc/*", "newdir/", {}),
    ("glob recursive", "demo/sub/*", "", {"recursive": True}),
    ("glob recursive maxdepth", "demo/**", "", {"recursive": True, "maxdepth": 2}),
    ("list of files to dir", ["demo/films/img/0.jpg", "demo/sub/clips/doc/1.pdf"], "newdir/", {}),
    ("list to list", ["demo/films/img/0.jpg", "demo/sub/clips/doc/1.pdf"], ["a", "x/b"], {}),
]


def test_get_matches_fsspec_local(tree: tuple[Path, LocalFileSystem], fs: PxfsFileSystem, tmp_path: Path) -> None:
    mirror, local = tree
    for n, (scenario, source, target, kwargs) in enumerate(GETS):
        results = []
        for side, getter, root in (("pxfs", fs, ""), ("local", local, f"{mirror}/")):
            dest = tmp_path / f"get{n}" / side
            dest.mkdir(parents=True)
            src = [root + s for s in source] if isinstance(source, list) else root + source
            dst = ([f"{dest}/{t}" for t in target] if isinstance(target, list)
                   else f"{dest}/{target}".rstrip("/") + ("/" if target.endswith("/") else ""))
            getter.get(src, dst, **kwargs)
            results.append({p.relative_to(dest).as_posix(): (p.read_bytes() if p.is_file() else None)
                            for p in dest.rglob("*")})
        assert results[0] == results[1], scenario
        assert results[0] or scenario == "1e dir, not recursive", scenario
        if scenario == "dir and file with the same name prefix":  # demo/films, not demo/films.parquet
            assert "films/img/0.jpg" in results[0] and not any("parquet" in k for k in results[0])


def test_open_text_compression_and_fsspec_open_files(tree: tuple[Path, LocalFileSystem]) -> None:
    files = fsspec.open_files("pxfs://demo/sub/clips/doc/*.pdf", "rt")
    assert [f.path for f in files] == ["demo/sub/clips/doc/0.pdf", "demo/sub/clips/doc/1.pdf"]
    with files[1] as f:
        assert f.read() == "%PDF-1.4 two"
    with fsspec.open("pxfs://demo/films.parquet") as f:
        assert f.read(4) == b"PAR1"
    mapper = fsspec.get_mapper("pxfs://demo/sub/clips/doc")
    assert sorted(mapper) == ["0.pdf", "1.pdf"] and mapper["0.pdf"] == b"%PDF-1.4 one"


def test_modified_and_sign(tree: tuple[Path, LocalFileSystem], fs: PxfsFileSystem) -> None:
    t = pxt.get_table("demo.films")
    assert fs.modified("demo/films.parquet").tzinfo is not None
    assert fs.modified("demo/films/img/0.jpg") <= fs.modified("demo/films.parquet")
    assert fs.modified("") is not None
    assert fs.sign("demo/films/img/0.jpg") == t.select(t.img.url).collect()["img_url"][0]
    with pytest.raises(NotImplementedError):
        fs.sign("demo/films.parquet")


# -- universal_pathlib ------------------------------------------------------------------------

def test_upath_reads_pxfs_without_warnings(tree: tuple[Path, LocalFileSystem]) -> None:
    from upath import UPath

    from pxfs.fs import PxfsPath

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        root = UPath("pxfs://demo/films")
        assert isinstance(root, PxfsPath) and str(root) == "pxfs://demo/films"
        assert sorted(p.name for p in root.iterdir()) == ["img", "rot", "title", "year"]
        img = root / "img" / "1.jpg"
        assert img.is_file() and img.stat().st_size == len(img.read_bytes())
        assert sorted(p.name for p in UPath("pxfs://demo").glob("**/*.pdf")) == ["0.pdf", "1.pdf"]
        with UPath("pxfs://demo/sub/clips.parquet").open("rb") as f:
            assert pd.read_parquet(f)["doc"].str.startswith("file://").all()
        with pytest.raises(PermissionError):
            (root / "img" / "1.jpg").unlink()


def test_upath_entry_point_so_upath_needs_no_pxfs_import() -> None:
    from importlib.metadata import entry_points

    assert "pxfs" in {ep.name for ep in entry_points(group="universal_pathlib.implementations")}
    script = ("import warnings; warnings.simplefilter('error'); from upath import UPath; "
              "print(type(UPath('pxfs://')).__name__)")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=os.environ.copy(),
                         check=True)
    assert out.stdout.strip() == "PxfsPath"


# -- more of the write rule, snapshots of past versions, pickling ------------------------------------

def test_put_of_a_folder_is_all_or_nothing(tmp_path: Path, fs: PxfsFileSystem) -> None:
    t = pxt.create_table("album", {"img": pxt.Image})
    flat = tmp_path / "flat"
    for i in range(3):
        write_image(flat / f"p{i}.jpg", "JPEG", seed=i)
    fs.put(f"{flat}/", "pxfs://album/img/", recursive=True)
    assert t.count() == 3 and t.version == 2  # one insert, one version
    write_image(flat / "nested" / "deep.jpg", "JPEG")
    with pytest.raises(PermissionError, match="cannot create directories"):
        fs.put(f"{flat}/", "pxfs://album/img/", recursive=True)
    assert t.count() == 3
    fs.pipe({"pxfs://album/img/a.png": (flat / "p0.jpg").read_bytes(),
             "pxfs://album/img/b.png": (flat / "p1.jpg").read_bytes()})
    assert t.count() == 5 and t.version == 3
    assert fs.ls("pxfs://album/img", detail=False)[-2:] == ["album/img/3.jpg", "album/img/4.jpg"]


def test_a_past_version_computes_only_the_cells_it_holds(tmp_path: Path, fs: PxfsFileSystem) -> None:
    t = make_films(tmp_path, n=2)
    pinned = t.version
    t.insert(img=str(write_image(tmp_path / "late.jpg", "JPEG", seed=7)), title="late", year=2030)
    df = pd.read_parquet(io.BytesIO(fs.cat_file(f"pxfs://demo/films@{pinned}.parquet")))
    assert df["title"].tolist() == ["film 0", "film 1"] and df["rot"].notna().all()
    assert owed(fs, "pxfs://demo/films/rot") == ["demo/films/rot/2.png"]  # the later row stays owed
    assert df["rot"].tolist() == t.where(t.year < 2030).select(t.rot.fileurl).collect()["rot_fileurl"]


def test_filesystem_pickles_and_holds_no_state_between_calls(tmp_path: Path, fs: PxfsFileSystem) -> None:
    import pickle

    make_films(tmp_path, n=1)
    again = pickle.loads(pickle.dumps(fs))
    assert isinstance(again, PxfsFileSystem) and again.ls("pxfs://demo", detail=False) == fs.ls(
        "pxfs://demo", detail=False)
    assert fsspec.filesystem("pxfs") is not fs  # no instance cache keyed by arguments
    pxt.drop_table("demo.films")
    assert fs.ls("pxfs://demo", detail=False) == []  # read from the catalog at every call
