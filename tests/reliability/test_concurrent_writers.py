"""Two writers at once, in two processes (issue 10, item 7).

Both finish; an operation may fail only with ``CatalogBusyError``, and only after waiting
at least ``catalog_lock_timeout`` for the catalog. No row is lost or added twice, every
owed cell is computed exactly once (the counts ``materialize`` returns add up to the
rows), ``pxfs verify`` passes and the pixels are Pillow's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import pxfs as pxt
from pxfs.env import Env

from ._support import MATERIALIZE_ON_GO, Child, Sources, Store, cells, cli, pixels, referenced, rotated_pixels

LOCK_TIMEOUT = 20.0  # catalog_lock_timeout of every process here

INSERTER = """
import pxfs as pxt
t = pxt.get_table(ARG["table"])
say("ready")
while not os.path.exists(ARG["go"]):
    time.sleep(0.002)
for batch in ARG["batches"]:
    t0 = time.monotonic()
    try:
        t.insert(batch)
    except Exception as e:
        say("failed", ns=[r["n"] for r in batch], elapsed=time.monotonic() - t0, error=error_of(e))
    else:
        say("inserted", ns=[r["n"] for r in batch], elapsed=time.monotonic() - t0)
say("done")
"""



@pytest.fixture
def writers_env(store: Store, monkeypatch: pytest.MonkeyPatch) -> Store:
    monkeypatch.setenv("PXFS_CATALOG_LOCK_TIMEOUT", str(LOCK_TIMEOUT))
    monkeypatch.setenv("PXFS_MATERIALIZE_BATCH_SIZE", "4")
    Env.reset()
    return store


def make_table(name: str, store: Store) -> pxt.Table:
    pxt.create_dir("rel", if_exists="ignore")
    t = pxt.create_table(f"rel.{name}", {"img": pxt.Image, "n": pxt.Int})
    t.add_computed_column(rot=t.img.rotate(90), destination=store.sub("rot"))
    return t


def run_together(children: list[Child], go: Path) -> None:
    """Release every child at the same moment, then wait for all of them."""
    for c in children:
        c.wait_for("ready")
    go.touch()
    for c in children:
        c.wait_for("done", timeout=180)
        assert c.finish() == 0, c.describe()


def only_busy_after_timeout(events: list[dict[str, Any]], who: str) -> None:
    for e in events:
        if e["event"] == "failed":
            err = e["error"]
            assert err["busy"] and e["elapsed"] >= 0.9 * LOCK_TIMEOUT, (
                f"{who} failed after {e['elapsed']:.1f}s (catalog_lock_timeout {LOCK_TIMEOUT:g}s): "
                f"{err['type']}: {err['message']}")


def check_table(table: str, store: Store, sources: Sources, ns: set[int], computed_before: int) -> None:
    """The rows are exactly `ns`, once each; each cell is computed once; bytes and pixels."""
    t = pxt.get_table(table)
    got = t.select(t.n).collect()["n"]
    assert sorted(got) == sorted(ns), (
        f"lost rows: {sorted(ns - set(got))}; unexpected rows: {sorted(set(got) - ns)}; "
        f"{len(got) - len(set(got))} duplicated")
    assert t.count() == len(ns)
    computed = t.materialize(show_progress=False)
    assert computed_before + computed == len(ns), (
        f"{computed_before} + {computed} cells computed for {len(ns)} rows: some cell computed twice or never")
    assert not any(e["owed"] for e in cells(table, "rot").values())
    ((code, out, err),) = cli(["verify", table])
    assert code == 0 and f"{table}: " in out, (out, err)
    rs = t.select(n=t.n, src_uri=t.img.fileurl, rot_uri=t.rot.fileurl).collect()
    for row in rs:
        n = row["n"]
        assert store.read(row["src_uri"]) == sources.paths[n].read_bytes(), row
        assert pixels(store.read(row["rot_uri"])) == rotated_pixels(sources.paths[n]), row
    # Nothing failed or was killed: no object exists that no row references.
    assert store.objects() == referenced(table, ["img", "rot"])


def test_two_processes_insert_into_one_table(writers_env: Store, tmp_path: Path) -> None:
    store = writers_env
    make_table("two_inserters", store)
    sources = Sources.make(tmp_path / "src", range(48))
    go = tmp_path / "go"
    batches = {who: [sources.rows(range(base + i, base + i + 4)) for i in range(0, 24, 4)]
               for who, base in (("a", 0), ("b", 24))}
    with Child(INSERTER, {"table": "rel.two_inserters", "go": str(go), "batches": batches["a"]}) as a, \
            Child(INSERTER, {"table": "rel.two_inserters", "go": str(go), "batches": batches["b"]}) as b:
        run_together([a, b], go)
    inserted: set[int] = set()
    for who, c in (("a", a), ("b", b)):
        only_busy_after_timeout(c.events, f"inserter {who}")
        inserted.update(n for e in c.events if e["event"] == "inserted" for n in e["ns"])
    check_table("rel.two_inserters", store, sources, inserted, 0)


def test_one_process_materializes_while_another_inserts(writers_env: Store, tmp_path: Path) -> None:
    store = writers_env
    t = make_table("mat_and_insert", store)
    sources = Sources.make(tmp_path / "src", range(56))
    t.insert(sources.rows(range(32)))
    go = tmp_path / "go"
    batches = [sources.rows(range(i, i + 4)) for i in range(32, 56, 4)]
    with Child(MATERIALIZE_ON_GO, {"table": "rel.mat_and_insert", "go": str(go)}) as m, \
            Child(INSERTER, {"table": "rel.mat_and_insert", "go": str(go), "batches": batches}) as ins:
        run_together([m, ins], go)
    only_busy_after_timeout(m.events, "materializer")
    only_busy_after_timeout(ins.events, "inserter")
    done = m.last("materialized")
    computed = int(done["computed"]) if done else 0
    inserted = set(range(32)) | {n for e in ins.events if e["event"] == "inserted" for n in e["ns"]}
    check_table("rel.mat_and_insert", store, sources, inserted, computed)
