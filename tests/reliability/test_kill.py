"""SIGKILL at random moments during ``materialize`` and during ``insert`` (issue 10, item 7).

A child process runs the operation; the test kills it (by pid) at a moment drawn from
``random.Random(seed)`` inside the time the same operation took uncut (the first round
runs uncut to measure it). After every kill, as a user who finds the process gone would:

- the table opens and holds the old rows or the new ones (an insert is all or nothing);
- ``pxfs verify`` passes (every referenced object exists, with its recorded size);
- ``pxfs gc --apply --min-age 0`` deletes exactly the orphans: afterwards the store holds
  exactly the objects the table references;
- a second ``materialize`` computes exactly the cells the ``pxfs://`` listing shows as
  owed, and leaves the cells stored before the kill as they were;
- every computed cell has Pillow's own pixels of ``Image.open(src).rotate(90)`` and every
  inserted object has the source's bytes.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

import pxfs as pxt
from pxfs.env import Env

from ._support import Child, Sources, Store, cells, cli, pixels, referenced, rotated_pixels
from .conftest import Seeded

ROUNDS = int(os.environ.get("PXFS_RELIABILITY_ROUNDS", "3"))  # the first one uncut, to time the operation
ROWS = 24  # rows a round inserts / materializes

MATERIALIZE = """
import pxfs as pxt
t = pxt.get_table(ARG["table"])
say("go")
t0 = time.monotonic()
n = t.materialize(show_progress=False)
say("done", computed=n, elapsed=time.monotonic() - t0)
"""

INSERT = """
import pxfs as pxt
t = pxt.get_table(ARG["table"])
say("go")
t0 = time.monotonic()
t.insert(ARG["rows"])
say("done", elapsed=time.monotonic() - t0)
"""


def stored_cells(table: str) -> dict[int, str]:
    return {r: str(e["uri"]) for r, e in cells(table, "rot").items() if not e["owed"]}


def check_cells(t: pxt.Table, store: Store, sources: Sources, why: str, checked: dict[int, tuple[str, str]]) -> None:
    """Inserted objects have the source's bytes; computed ones have Pillow's rotated pixels.

    `checked` (n -> URIs) holds the rows checked in earlier rounds: their URIs must not have
    changed, and their bytes are not read again."""
    rs = t.select(n=t.n, src_uri=t.img.fileurl, rot_uri=t.rot.fileurl).collect()
    assert len(rs) == t.count(), why
    for row in rs:
        n, src_uri, rot_uri = row["n"], row["src_uri"], row["rot_uri"]
        if n in checked:
            assert checked[n] == (src_uri, rot_uri), (why, f"row n={n} changed", checked[n], row)
            continue
        assert src_uri is not None and rot_uri is not None, (why, row)
        assert store.read(src_uri) == sources.paths[n].read_bytes(), (why, f"row n={n}: inserted bytes differ", src_uri)
        assert pixels(store.read(rot_uri)) == rotated_pixels(sources.paths[n]), (
            why, f"row n={n}: pixels of {rot_uri} are not Pillow's rotate(90) of the source")
        checked[n] = (src_uri, rot_uri)


def check_after_kill(table: str, store: Store, sources: Sources, allowed: list[set[int]], why: str,
                     checked: dict[int, tuple[str, str]]) -> set[int]:
    """Everything a user relies on after a crash; returns the ``n`` values the table holds."""
    t = pxt.get_table(table)
    ns = set(t.select(t.n).collect()["n"])
    assert any(ns == a for a in allowed), (
        why, f"rows are neither the old nor the new ones: {len(ns)} rows, allowed sizes {[len(a) for a in allowed]}")
    assert t.count() == len(ns), why
    # verify passes; gc removes exactly the orphans: afterwards the store holds exactly what
    # the rows reference.
    refs = referenced(table, ["img", "rot"])
    (vcode, vout, verr), (gcode, gout, gerr) = cli(["verify", table], ["gc", "--apply", "--min-age", "0"])
    assert vcode == 0 and f"{table}: " in vout, (why, vout, verr)
    assert gcode == 0 and gout, (why, gout, gerr)
    after = store.objects()
    out = gout
    assert not refs - after, (why, "gc deleted referenced objects", sorted(refs - after), out)
    assert after == refs, (why, "gc left orphans", sorted(after - refs), out)

    # a second materialize computes exactly what is owed, and keeps what was stored.
    listing = cells(table, "rot")
    owed = {r for r, e in listing.items() if e["owed"]}
    kept = stored_cells(table)
    assert len(listing) == len(ns), why
    computed = t.materialize(show_progress=False)
    assert computed == len(owed), (why, f"materialize computed {computed} cells, {len(owed)} were owed")
    now = stored_cells(table)
    assert set(now) == set(listing), (why, "cells still owed after materialize", sorted(set(listing) - set(now)))
    assert {r: now[r] for r in kept} == kept, (why, "cells stored before the kill changed")
    check_cells(t, store, sources, why, checked)
    assert store.objects() == referenced(table, ["img", "rot"]), (why, "objects nobody references after materialize")
    return ns


def setup_table(name: str, store: Store, monkeypatch: pytest.MonkeyPatch) -> pxt.Table:
    monkeypatch.setenv("PXFS_MATERIALIZE_BATCH_SIZE", "4")  # several commits per materialize
    Env.reset()
    pxt.create_dir("rel", if_exists="ignore")
    t = pxt.create_table(f"rel.{name}", {"img": pxt.Image, "n": pxt.Int})
    t.add_computed_column(rot=t.img.rotate(90), destination=store.sub("rot"))
    return t


def kill_at_random(child: Child, seeded: Seeded, window: float | None, log: list[str], r: int) -> float | None:
    """Round 0 runs uncut and returns how long it took; later rounds are killed in that window."""
    child.wait_for("go")
    if window is None:
        done = child.wait_for("done", timeout=120)
        assert child.finish() == 0, child.describe()
        log.append(f"round {r}: uncut, {done['elapsed']:.3f}s")
        return float(done["elapsed"])
    delay = seeded.rng.uniform(0.0, window)
    time.sleep(delay)
    alive = child.kill()
    log.append(f"round {r}: SIGKILL after {delay:.3f}s of ~{window:.3f}s ({'killed' if alive else 'had ended'})")
    return window


def test_sigkill_during_materialize(store: Store, seeded: Seeded, tmp_path: Path,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    t = setup_table("kill_mat", store, monkeypatch)
    sources = Sources.make(tmp_path / "src", range(ROUNDS * ROWS))
    ns: set[int] = set()
    window: float | None = None
    log: list[str] = []
    checked: dict[int, tuple[str, str]] = {}
    for r in range(ROUNDS):
        batch = set(range(r * ROWS, (r + 1) * ROWS))
        t.insert(sources.rows(sorted(batch)))
        ns |= batch
        with Child(MATERIALIZE, {"table": "rel.kill_mat"}) as child:
            window = kill_at_random(child, seeded, window, log, r)
        why = f"{seeded}; {store.kind}; " + "; ".join(log)
        check_after_kill("rel.kill_mat", store, sources, [ns], why, checked)
    print("\n".join(log))


def test_sigkill_during_insert(store: Store, seeded: Seeded, tmp_path: Path,
                               monkeypatch: pytest.MonkeyPatch) -> None:
    setup_table("kill_ins", store, monkeypatch)
    sources = Sources.make(tmp_path / "src", range(ROUNDS * ROWS))
    ns: set[int] = set()
    window: float | None = None
    log: list[str] = []
    checked: dict[int, tuple[str, str]] = {}
    for r in range(ROUNDS):
        batch = set(range(r * ROWS, (r + 1) * ROWS))
        with Child(INSERT, {"table": "rel.kill_ins", "rows": sources.rows(sorted(batch))}) as child:
            window = kill_at_random(child, seeded, window, log, r)
        why = f"{seeded}; {store.kind}; " + "; ".join(log)
        allowed = [ns | batch] if r == 0 else [ns, ns | batch]
        ns = check_after_kill("rel.kill_ins", store, sources, allowed, why, checked)
    print("\n".join(log))
