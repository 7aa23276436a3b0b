"""Each way issue 10 found to lose or misread data, as a test: names, lazy filters,
versions, gc across catalogs, interrupted drops, bad input at the catalog."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq
import pytest

import pxfs as pxt
from pxfs.cli import main
from pxfs.env import Env
from pxfs.session import Session
from pxfs.testing import MotoServer

from .images import write_image


@pytest.fixture
def images(tmp_path: Path) -> list[Path]:
    return [write_image(tmp_path / "src" / f"img{i}.jpg", "JPEG", seed=i, size=(40 + i, 30)) for i in range(8)]


def files_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def gc(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(["gc", *args]) == 0
    return capsys.readouterr().out


# -- names -----------------------------------------------------------------------------

def test_drop_dir_matches_its_own_children_only(images: list[Path], tmp_path: Path) -> None:
    for d in ("run_1", "run11", "runX1", "a_b", "axb"):
        pxt.create_dir(d)
    for d in ("run_1", "run11", "runX1"):
        t = pxt.create_table(f"{d}.t", {"img": pxt.Image})
        t.add_computed_column(r=t.img.rotate(90), destination=str(tmp_path / d))
        t.insert(img=str(images[0]))
        t.materialize()
    pxt.create_table("axb.t", {"n": pxt.Int})
    pxt.drop_dir("a_b")  # empty: axb.t is not inside it
    pxt.drop_dir("run_1", force=True)
    assert pxt.list_tables() == ["axb.t", "run11.t", "runX1.t"]
    assert files_in(tmp_path / "run_1") == []
    assert len(files_in(tmp_path / "run11")) == 1 and len(files_in(tmp_path / "runX1")) == 1
    assert pxt.list_dirs() == ["axb", "run11", "runX1"]


@pytest.mark.parametrize("name", ["../x", "/x", "x/", "x\n", " x", "x..y", "a.1b", "", "x y", "x%"])
def test_invalid_names_are_refused_never_renamed(name: str) -> None:
    pxt.create_dir("x", if_exists="ignore")
    with pytest.raises(pxt.CatalogError, match="letters, digits and _"):
        pxt.create_table(name, {"n": pxt.Int})
    with pytest.raises(pxt.CatalogError, match="letters, digits and _"):
        pxt.create_dir(name)
    assert pxt.list_tables() == [] and pxt.list_dirs() == ["x"]


def test_comparing_with_the_wrong_type_is_a_data_error() -> None:
    t = pxt.create_table("typed", {"n": pxt.Int, "s": pxt.String})
    t.insert([{"n": 1, "s": "a"}, {"n": 2, "s": "b"}])
    with pytest.raises(pxt.DataError, match="'n'|n holds Int"):
        t.where(t.n == "x").collect()
    with pytest.raises(pxt.DataError, match="s holds String"):
        t.where(t.s > 3).count()
    with pytest.raises(pxt.DataError, match="n holds Int"):
        t.delete(t.n == "1")
    assert t.count() == 2 and t.where(t.n >= 1.5).count() == 1


# -- lazy cells under filters ---------------------------------------------------------------

def test_filters_read_lazy_cells_as_collect_does(images: list[Path], tmp_path: Path) -> None:
    t = pxt.create_table("lazy", {"img": pxt.Image, "n": pxt.Int})
    t.insert([{"img": str(p), "n": i} for i, p in enumerate(images)])
    t.add_computed_column(w=t.img.width)
    t.add_computed_column(r=t.img.rotate(90), destination=str(tmp_path / "r"))
    wide = t.w >= 44  # images 4..7 are 44..47 pixels wide
    assert t.where(t.w == None).count() == 0 == len(t.where(t.w == None).select(t.n).collect())  # noqa: E711
    assert t.where(wide).count() == 4 == len(t.where(wide).select(t.n).collect())
    assert t.order_by(t.w, asc=False).limit(2).select(t.n).collect()["n"] == [7, 6]
    assert t.materialize(["r"], where=wide) == 4
    assert len(files_in(tmp_path / "r")) == 4
    assert t.delete(t.w == None).num_rows == 0  # noqa: E711
    status = t.delete(t.w > 45)
    assert status.num_rows == 2 and t.count() == 6
    assert sorted(t.select(t.n).collect()["n"]) == [0, 1, 2, 3, 4, 5]


def test_a_pinned_version_filters_on_its_own_rows(images: list[Path]) -> None:
    t = pxt.create_table("pin", {"img": pxt.Image, "n": pxt.Int})
    t.insert([{"img": str(p), "n": i} for i, p in enumerate(images[:4])])
    t.add_computed_column(w=t.img.width)  # version 3, nothing computed
    t.delete(t.n < 2)  # version 4 (computes w for the predicate? no: n is stored)
    v3 = pxt.get_table("pin:3")
    assert v3.where(v3.w >= 42).count() == 2 == len(v3.where(v3.w >= 42).collect())
    assert sorted(v3.select(v3.w).collect()["w"]) == [40, 41, 42, 43]


# -- true versions ------------------------------------------------------------------------

def snapshot(t: Any) -> list[dict[str, Any]]:
    return t.select(*[t[c] for c in t.columns() if c not in ("img", "r")]).collect().to_pandas().to_dict("records")


def test_versions_never_change(images: list[Path], tmp_path: Path) -> None:
    t = pxt.create_table("d_v", {"img": pxt.Image, "n": pxt.Int, "note": pxt.String})  # v1
    t.insert([{"img": str(p), "n": i, "note": f"x{i}"} for i, p in enumerate(images[:5])])  # v2
    t.add_computed_column(r=t.img.rotate(90), destination=str(tmp_path / "r"))  # v3
    v3 = pxt.get_table("d_v:3")
    before = v3.select(v3.n, v3.note, v3.r.fileurl).collect().to_pandas()
    exported = tmp_path / "v3.parquet"
    v3.to_parquet(exported)
    fs_before = pq.read_table(io.BytesIO(pxt.open("pxfs://d_v@3.parquet").read())).to_pylist()
    urls = [u for u in v3.select(v3.r.url).collect()["r_url"]]
    t.delete(t.n >= 3)  # v4
    t.drop_column("note")  # v5
    t.insert(img=str(images[6]), n=6)  # v6
    assert t.version == 6 and t.count() == 4 and t.columns() == ["img", "n", "r"]
    v3 = pxt.get_table("d_v:3")
    assert v3.count() == 5 and v3.columns() == ["img", "n", "note", "r"]
    after = v3.select(v3.n, v3.note, v3.r.fileurl).collect().to_pandas()
    assert after.equals(before)
    assert pq.read_table(io.BytesIO(pxt.open("pxfs://d_v@3.parquet").read())).to_pylist() == fs_before
    assert pq.read_table(exported).to_pylist() == fs_before
    for u in before["r_fileurl"]:  # every object a past version references is still there
        assert Path(u[len("file://"):]).is_file()
    assert all(Path(u[len("file://"):]).is_file() for u in urls)
    hist = t.history()
    assert hist["version"] == [6, 5, 4, 3, 2, 1]
    assert hist["change"] == ["insert 1", "drop column note", "delete 2", "add column r", "insert 5", "create"]
    assert hist["rows"] == [4, 3, 3, 5, 5, 0]
    with pytest.raises(pxt.CatalogError, match="read-only"):
        v3.insert(n=1)


def test_revert_undoes_each_kind_of_change(images: list[Path], tmp_path: Path) -> None:
    t = pxt.create_table("rev", {"img": pxt.Image, "n": pxt.Int})
    t.insert([{"img": str(p), "n": i} for i, p in enumerate(images[:3])])  # v2
    t.add_computed_column(r=t.img.rotate(90), destination=str(tmp_path / "r"))  # v3
    t.materialize()
    t.delete(t.n == 0)  # v4
    t.drop_column("r")  # v5
    assert t.revert().version == 4 and t.columns() == ["img", "n", "r"]
    assert t.revert().version == 3 and t.count() == 3
    assert len(files_in(tmp_path / "r")) == 3
    status = t.revert()  # the column goes, with the media pxfs wrote for it
    assert status.version == 2 and status.media_removed == 3 and files_in(tmp_path / "r") == []
    t.insert(img=str(images[3]), n=3)
    assert t.version == 6  # numbers of reverted versions are never reused
    with pytest.raises(pxt.CatalogError, match="reverted"):
        pxt.get_table("rev:4")
    assert t.revert().version == 2 and t.revert().version == 1 and t.count() == 0
    with pytest.raises(pxt.CatalogError, match="nothing to revert"):
        t.revert()


def test_retention_expires_history_and_only_then_removes_media(
        images: list[Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    t = pxt.create_table("ret", {"img": pxt.Image, "n": pxt.Int})
    t.insert([{"img": str(p), "n": i} for i, p in enumerate(images[:4])])
    t.add_computed_column(r=t.img.rotate(90), destination=str(tmp_path / "r"))
    t.materialize()
    t.delete(t.n < 2)
    assert "no orphaned objects" in gc(capsys, "--apply", "--min-age", "0")  # 7 days: nothing expires
    assert len(files_in(tmp_path / "r")) == 4 and pxt.get_table("ret:3").count() == 4
    pxt.init({"version_retention_days": 1e-9})
    out = gc(capsys)
    assert "would expire versions 1, 2, 3 of ret" in out and len(files_in(tmp_path / "r")) == 4
    out = gc(capsys, "--apply", "--min-age", "0")
    assert "expired versions 1, 2, 3 of ret" in out and "2 object(s) removed" in out
    assert len(files_in(tmp_path / "r")) == 2
    assert [h for h in t.history()["version"]] == [4] and t.count() == 2
    with pytest.raises(pxt.CatalogError, match="expired"):
        pxt.get_table("ret:3")
    assert main(["verify", "ret"]) == 0


# -- gc --------------------------------------------------------------------------------------

def test_gc_never_touches_what_another_catalog_wrote(
        images: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    shared = tmp_path / "shared"
    tables = {}
    for who in ("alice", "bob"):
        monkeypatch.setenv("PXFS_HOME", str(tmp_path / who))
        Env.reset()
        t = pxt.create_table("t", {"img": pxt.Image})
        t.insert([{"img": str(p)} for p in images[:3]])
        t.add_computed_column(r=t.img.rotate(90), destination=str(shared))
        t.materialize()
        tables[who] = t.select(t.r.fileurl).collect()["r_fileurl"]
    assert len(files_in(shared)) == 6
    out = gc(capsys, "--apply", "--min-age", "0")  # as bob
    assert "kept 3 object(s): written by another catalog" in out
    assert len(files_in(shared)) == 6
    t = pxt.get_table("t")
    t.delete()
    t.expire_versions(0)  # bob's own objects go; alice's stay
    assert sorted(str(p) for p in files_in(shared)) == sorted(u[len("file://"):] for u in tables["alice"])
    monkeypatch.setenv("PXFS_HOME", str(tmp_path / "alice"))
    Env.reset()
    assert main(["verify", "t"]) == 0


def test_a_drop_whose_media_removal_failed_is_finished_by_gc(
        images: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "y")
    with MotoServer() as moto:
        moto.create_bucket("media")
        alive = {"schemes": {"store": {"endpoint_url": moto.endpoint_url}}, "retries": 0, "request_timeout": 2}
        pxt.init(alive)
        t = pxt.create_table("doomed", {"img": pxt.Image})
        t.insert([{"img": str(p)} for p in images[:3]])
        t.add_computed_column(r=t.img.rotate(90), destination="store://media/out/")
        t.materialize()
        uris = t.select(t.r.fileurl).collect()["r_fileurl"]
        pxt.init({**alive, "schemes": {"store": {"endpoint_url": "http://127.0.0.1:9"}}})  # endpoint down
        pxt.drop_table("doomed")  # the drop stands; its media wait for gc
        assert pxt.list_tables() == []
        pxt.init(alive)
        storage = Session.default().storage
        assert all(storage.exists(u) for u in uris)
        out = gc(capsys)
        assert "would remove the media of dropped table doomed" in out and all(storage.exists(u) for u in uris)
        out = gc(capsys, "--apply", "--min-age", "0")
        assert "removed the media of dropped table doomed" in out
        assert not any(storage.exists(u) for u in uris)
        assert "dropped table" not in gc(capsys, "--apply", "--min-age", "0")  # done once


def test_dropping_a_table_keeps_media_another_table_references(images: list[Path], tmp_path: Path) -> None:
    a = pxt.create_table("a", {"img": pxt.Image})
    a.insert(img=str(images[0]))
    a.add_computed_column(r=a.img.rotate(90), destination=str(tmp_path / "r"))
    uri = a.select(a.r.fileurl).collect()[0]["r_fileurl"]
    b = pxt.create_table("b", {"img": pxt.Image})
    b.insert(img=uri)  # referenced in place
    pxt.drop_table("a")
    assert Path(uri[len("file://"):]).is_file()
    assert b.select(b.img.width).collect()[0]["width"] == 40


# -- the catalog -------------------------------------------------------------------------------

def test_a_schema_1_catalog_is_migrated(images: list[Path]) -> None:
    t = pxt.create_table("old", {"img": pxt.Image, "n": pxt.Int})
    t.insert([{"img": str(p), "n": i} for i, p in enumerate(images[:3])])
    path = Env.get().catalog_path
    Env.reset()
    con = duckdb.connect(str(path))  # make it look like a catalog of the previous release
    con.execute(f"alter table rows_{t._id} drop column _vdel")
    for c in ("last_made", "oldest", "dropped", "purged"):
        con.execute(f"alter table tables drop column {c}")
    con.execute("alter table columns drop column purged")
    con.execute("update pxfs_meta set value = '1' where key = 'schema_version'")
    con.close()
    t = pxt.get_table("old")
    assert t.count() == 3 and t.delete(t.n == 0).num_rows == 1 and pxt.get_table("old:2").count() == 3
    assert t.history()["version"] == [3, 2, 1]


def test_rows_tables_are_only_touched_by_the_rows_layer() -> None:
    """Only pxfs/catalog runs SQL (issue 10, item 1): no connection is used anywhere else,
    and no statement uses LIKE (a user's ``_`` would be a wildcard)."""
    import re

    root = Path(pxt.__file__).parent
    offenders = []
    for py in root.rglob("*.py"):
        text = py.read_text()
        inside = py.parent == root / "catalog" or py.parent.parent == root / "catalog"
        for m in re.finditer(r"\bcon\.(execute|sql|register)\(|\bi?like\s+(\?|'[^']*%)", text, re.IGNORECASE):
            if not inside or "like" in m.group(0).lower():
                offenders.append(f"{py.relative_to(root)}: {m.group(0)}")
    assert offenders == []


def test_a_damaged_catalog_and_a_bad_uri_are_pxfs_errors() -> None:
    path = Env.get().catalog_path
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"this is not a DuckDB database " * 200)
    with pytest.raises(pxt.CatalogError, match="catalog"):
        pxt.list_tables()
    with pytest.raises(pxt.InvalidURIError, match="expected a path or URI"):
        pxt.open(None)  # type: ignore[arg-type]


def test_a_catalog_folder_that_cannot_be_written_is_a_catalog_error(tmp_path: Path) -> None:
    """Root may write anywhere, so the folder is made impossible rather than read-only."""
    (tmp_path / "a-file").write_text("x")
    with pytest.raises(pxt.CatalogError, match="PXFS_HOME") as e:
        pxt.Session(home=tmp_path / "a-file" / "home").list_tables()
    assert str(tmp_path / "a-file" / "home") in str(e.value)
    home = tmp_path / "home"
    (home / "catalog.duckdb.lock").mkdir(parents=True)  # where the lock file must go
    with pytest.raises(pxt.CatalogError, match="lock file") as e:
        pxt.Session(home=home).list_tables()
    assert str(home / "catalog.duckdb.lock") in str(e.value)
