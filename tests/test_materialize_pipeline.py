"""materialize() as a pipeline: batches compute ahead of the ones uploading, two upload at once.

The results must be those of computing the cells one by one: each row gets the image of
its own input, every cell is recorded once, and a storage failure mid-way is raised
after the batches before it were recorded, leaving the rest owed for the next call.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PIL import Image

import pxfs as pxt
from pxfs.storage import Storage

from .images import write_image


@pytest.fixture
def table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("PXFS_MATERIALIZE_BATCH_SIZE", "3")  # 23 rows: 8 batches, the last one short
    pxt.init()
    srcs = [write_image(tmp_path / "src" / f"{i:02d}.png", "PNG", seed=i * 13) for i in range(23)]
    t = pxt.create_table("pipe", {"img": pxt.Image, "i": pxt.Int})
    t.insert([{"img": str(p), "i": i} for i, p in enumerate(srcs)])
    t.add_computed_column(rotated=t.img.rotate(90), destination=str(tmp_path / "out"))
    return t, srcs


def test_every_row_gets_its_own_result(table: Any) -> None:
    t, srcs = table
    assert t.materialize(show_progress=False) == len(srcs)
    rs = t.order_by(t.i).select(t.i, t.rotated, t.rotated.fileurl).collect()
    for row in rs:
        assert row["rotated"].tobytes() == Image.open(srcs[row["i"]]).rotate(90).tobytes(), row["i"]
    assert len(set(rs["rotated_fileurl"])) == len(srcs)
    assert t.materialize(show_progress=False) == 0


def test_a_storage_failure_is_raised_and_the_rest_stays_owed(
    table: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    t, srcs = table
    real = Storage.put_many
    calls = {"n": 0}

    def failing_third_batch(self: Storage, sources: Any, dest: Any, **kw: Any) -> list[Any]:
        calls["n"] += 1
        if calls["n"] == 3:
            return [PermissionError(13, "denied by the test")] * len(list(sources))
        return real(self, sources, dest, **kw)

    monkeypatch.setattr(Storage, "put_many", failing_third_batch)
    with pytest.raises(PermissionError, match="denied by the test"):
        t.materialize(show_progress=False)
    # (a query would compute the owed cells it reads: count the objects written instead)
    written = list((tmp_path / "out").iterdir())
    assert 6 <= len(written) < len(srcs)  # the two batches before the failure, perhaps the one beside it
    monkeypatch.setattr(Storage, "put_many", real)
    assert t.materialize(show_progress=False) == len(srcs) - len(written)  # recorded cells are not redone
    rs = t.order_by(t.i).select(t.i, t.rotated).collect()
    assert all(r["rotated"].tobytes() == Image.open(srcs[r["i"]]).rotate(90).tobytes() for r in rs)
