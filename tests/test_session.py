"""Two catalogs in one process: a Session is handed down explicitly (issue 12, item 3)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import fsspec
import pytest

import pxfs as pxt
from pxfs.session import Session

from .images import write_image


def test_two_catalogs_open_in_one_process(tmp_path: Path) -> None:
    img = write_image(tmp_path / "a.jpg", "JPEG")
    mine = pxt.Session(home=tmp_path / "mine")
    theirs = pxt.Session(home=tmp_path / "theirs", config={"output_media_dest": str(tmp_path / "their-out")})
    a = mine.create_table("t", {"img": pxt.Image, "n": pxt.Int})
    b = theirs.create_table("t", {"img": pxt.Image})
    a.insert([{"img": str(img), "n": 1}, {"img": str(img), "n": 2}])
    b.insert(img=str(img))
    a.add_computed_column(r=a.img.rotate(90))
    b.add_computed_column(r=b.img.rotate(90))
    assert (a.count(), b.count()) == (2, 1)
    assert a.session is mine and b.session is theirs
    assert mine.get_table("t").count() == 2 and theirs.get_table("t").count() == 1
    # each writes where its own configuration says
    assert a.select(a.r.fileurl).collect()[0]["r_fileurl"].startswith(f"file://{tmp_path}/mine/media/")
    assert b.select(b.r.fileurl).collect()[0]["r_fileurl"].startswith(f"file://{tmp_path}/their-out/")
    # the default session (this test's PXFS_HOME) sees neither
    assert pxt.list_tables() == [] and Session.default() is not mine
    # the pxfs:// filesystem of another catalog
    fs = fsspec.filesystem("pxfs", home=str(tmp_path / "theirs"), skip_instance_cache=True)
    assert fs.ls("t/r", detail=False) == ["t/r/0.jpg"]
    mine.drop_table("t")
    assert mine.list_tables() == [] and theirs.list_tables() == ["t"]
    assert "mine" in repr(mine)


def test_default_session_follows_init(tmp_path: Path) -> None:
    first = Session.default()
    assert Session.default() is first
    pxt.init({"output_media_dest": str(tmp_path / "out")})
    assert Session.default() is not first
    assert Session.default().default_output_media_dest == str(tmp_path / "out")


def test_nothing_below_the_api_imports_env_for_state() -> None:
    """tables/, compute/, catalog/, storage/, fs/ and web/ never call Env.get()."""
    root = Path(pxt.__file__).parent
    offenders = [str(p.relative_to(root)) for sub in ("tables", "compute", "catalog", "storage", "fs", "web")
                 for p in (root / sub).rglob("*.py") if "Env.get(" in p.read_text() or "Env.reset(" in p.read_text()]
    assert offenders == []


@pytest.mark.parametrize("module", ["pxfs.tables._table", "pxfs.tables._query", "pxfs.tables._parquet"])
def test_no_import_circles_through_tables(module: str) -> None:
    """Each module imports on its own, first, in a fresh process."""
    out = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
