"""A stalled endpoint: it accepts connections and never answers (issue 10, items 4 and 7).

One process materializes to it (small ``request_timeout`` / ``retries``), another loops
``t.count()`` on the same catalog. The reader is never blocked more than a few seconds;
the materializing process ends, on its own, with a pxfs error that names the URI; every
cell stays owed and is computed once the destination answers again.

The stall is reached two ways: ``s3_endpoint_url`` (with ``AWS_ENDPOINT_URL_S3``) and a
user alias ``[pxfs.schemes.stall]`` in ``$PXFS_HOME/config.toml``. The table and its
computed column are made while the endpoint is moto; only the materializing process sees
the silent server.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

import pxfs as pxt
from pxfs.env import Env
from pxfs.testing import MotoServer, SilentServer

from ._reader import READER
from ._support import MATERIALIZE_ON_GO, Child, Sources, Store, cells, pixels, rotated_pixels

MAX_READ_S = 5.0
ROWS = 8
# A stall lasts about (retries + 1) x request_timeout: longer than MAX_READ_S, so a reader
# blocked for the whole stall fails, and short enough for CI.
STALL_SETTINGS = {"PXFS_REQUEST_TIMEOUT": "2", "PXFS_RETRIES": "0"}
MATERIALIZE_DEADLINE_S = 90.0



def alias_config(endpoint: str) -> str:
    return f'[pxfs.schemes.stall]\ntype = "s3"\nendpoint_url = "{endpoint}"\n'


@pytest.mark.emulator
@pytest.mark.parametrize("how", ["s3_endpoint_url", "alias"])
def test_stalled_endpoint_blocks_no_reader_and_leaves_cells_owed(
    how: str, moto_server: MotoServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(name, value)
    bucket = f"rel-{uuid.uuid4().hex[:12]}"
    moto_server.create_bucket(bucket)
    config = Path(os.environ["PXFS_HOME"]) / "config.toml"
    if how == "alias":
        config.write_text(alias_config(moto_server.endpoint_url))
        scheme = "stall"
    else:
        monkeypatch.setenv("AWS_ENDPOINT_URL_S3", moto_server.endpoint_url)
        scheme = "s3"
    Env.reset()
    dest = f"{scheme}://{bucket}/rot"
    sources = Sources.make(tmp_path / "src", range(ROWS))
    pxt.create_dir("rel", if_exists="ignore")
    t = pxt.create_table("rel.stalled", {"img": pxt.Image, "n": pxt.Int})
    t.insert(sources.rows(range(ROWS)))  # sources referenced in place: only the output goes to the endpoint
    t.add_computed_column(rot=t.img.rotate(90), destination=dest)

    go, stop = tmp_path / "go", tmp_path / "stop"
    with SilentServer() as silent:
        mat_env = {**os.environ, **STALL_SETTINGS}
        if how == "alias":
            config.write_text(alias_config(silent.endpoint_url))  # the reader never touches storage
        else:
            mat_env["PXFS_S3_ENDPOINT_URL"] = silent.endpoint_url
            mat_env["AWS_ENDPOINT_URL_S3"] = silent.endpoint_url
        with Child(READER, {"table": "rel.stalled", "go": str(go), "stop": str(stop)}) as reader, \
                Child(MATERIALIZE_ON_GO, {"table": "rel.stalled", "go": str(go)}, env=mat_env) as mat:
            reader.wait_for("ready")
            mat.wait_for("ready")
            go.touch()
            try:
                outcome = mat.wait_for(("failed", "materialized"), MATERIALIZE_DEADLINE_S)
            finally:
                stop.touch()
            result = reader.wait_for("result", timeout=60)
            assert reader.finish() == 0, reader.describe()
            assert mat.finish() == 0, mat.describe()
        connections = silent.connections
    if how == "alias":
        config.write_text(alias_config(moto_server.endpoint_url))
    Env.reset()
    print(f"materializer: {outcome}; reader: {result['iterations']} iterations, slowest {result['latency']}; "
          f"{connections} connection(s) to the silent server")

    # The reader was never blocked long and never failed.
    assert result["n_errors"] == 0, result["errors"]
    slowest = max(result["latency"].values())
    assert slowest < MAX_READ_S, (
        f"a t.count() was blocked {slowest:.1f}s while another process waited on a stalled endpoint "
        f"(materializer: {outcome}): {result['latency']}")
    assert result["counts"] == [ROWS], result["counts"]
    assert connections > 0, "the materializing process never reached the stalled endpoint"

    # The materializer ended on its own with a pxfs error naming the URI.
    assert outcome["event"] == "failed", f"materialize against a silent endpoint did not fail: {outcome}"
    err = outcome["error"]
    assert err["pxfs"], f"not a pxfs error: {err['type']}: {err['message']}"
    assert f"{scheme}://{bucket}" in err["message"], f"the error does not name the URI: {err['message']}"

    # Every cell is still owed, and computed once the destination answers.
    listing = cells("rel.stalled", "rot")
    assert len(listing) == ROWS and all(e["owed"] for e in listing.values()), listing
    t = pxt.get_table("rel.stalled")
    assert t.materialize(show_progress=False) == ROWS
    store = Store("s3", f"s3://{bucket}/rot", endpoint_url=moto_server.endpoint_url)
    for row in t.select(n=t.n, uri=t.rot.fileurl).collect():
        s3_uri = f"s3://{row['uri'].split('://', 1)[1]}"  # an alias URI names the same bucket and key
        assert pixels(store.read(s3_uri)) == rotated_pixels(sources.paths[row["n"]]), row
