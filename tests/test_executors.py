"""materialize() on Dask and Ray: the same objects as threads, the driver alone records.

One ``distributed.LocalCluster`` (2 worker processes) and one local Ray instance serve the
whole module. Workers get their credentials from their own environment (as on a real
cluster): the fixtures give them the variables the tests give the driver.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import pxfs as pxt
from pxfs import cli
from pxfs.compute import resolve_executor
from pxfs.compute._batch import portable_config
from pxfs.env import Env
from pxfs.errors import ConfigError
from pxfs.storage import AzureSettings, GcsSettings, SchemeSpec, StorageConfig
from pxfs.testing import MotoServer

from .images import sample_image, write_image

distributed = pytest.importorskip("distributed")
ray = pytest.importorskip("ray")

_KEYS = {"AWS_ACCESS_KEY_ID": "AKIAWORKER", "AWS_SECRET_ACCESS_KEY": "worker-secret"}


def _worker_env(tmp: Path) -> dict[str, str]:
    """What every worker is given, as a cluster's nodes would be configured."""
    return {**_KEYS, "PXFS_HOME": str(tmp / "worker-home"), "AWS_CONFIG_FILE": str(tmp / "none"),
            "AWS_SHARED_CREDENTIALS_FILE": str(tmp / "none")}


@pytest.fixture(scope="module")
def dask_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    env = _worker_env(tmp_path_factory.mktemp("dask"))
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None,
                                  env=env) as cluster, distributed.Client(cluster) as client:
        yield client


@pytest.fixture(scope="module")
def ray_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    env = _worker_env(tmp_path_factory.mktemp("ray"))
    ray.init(num_cpus=2, include_dashboard=False, runtime_env={"env_vars": env}, log_to_driver=False)
    try:
        yield ray
    finally:
        ray.shutdown()


@pytest.fixture(params=["local", "s3"])
def dest(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "local":
        return str(tmp_path / "out")
    server: MotoServer = request.getfixturevalue("moto_server")
    for name, value in _KEYS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", server.endpoint_url)
    Env.reset()
    bucket = f"exec-{request.node.name.split('[')[1].rstrip(']').replace('-', '')}".lower()[:60]
    server.create_bucket(bucket)
    return f"s3://{bucket}/out/"


def make_table(tmp_path: Path, dest: str, n: int, name: str = "tbl", scale: int = 1) -> Any:
    """A table of `n` distinct JPEGs (64x48, times `scale`), a computed image and a computed int."""
    (tmp_path / "src").mkdir(exist_ok=True)
    srcs = [tmp_path / "src" / f"{i:03d}.jpg" for i in range(n)]
    for i, p in enumerate(srcs):
        sample_image(seed=i).resize((64 * scale, 48 * scale)).save(p, "JPEG")
    t = pxt.create_table(name, {"img": pxt.Image, "i": pxt.Int})
    t.insert([{"img": str(p), "i": i} for i, p in enumerate(srcs)])
    t.add_computed_column(rot=t.img.rotate(90), destination=dest)
    t.add_computed_column(w=t.img.width)
    return t


def recorded(name: str = "tbl") -> dict[int, tuple[Any, ...]]:
    t = pxt.get_table(name)
    rs = t.order_by(t.i).select(t.i, t.rot.fileurl, t.rot.errortype, t.w).collect()
    return {r["i"]: (r["rot_fileurl"], r["rot_errortype"], r["w"]) for r in rs}


def threads_copy(home: Path, tmp_path: Path) -> Path:
    """A copy of the catalog as it is now, in another PXFS_HOME (same table and column ids)."""
    other = tmp_path / "threads-home"
    other.mkdir()
    for f in home.iterdir():
        if f.is_file():
            shutil.copy(f, other / f.name)
    return other


@pytest.mark.parametrize("engine", ["dask", "ray"])
def test_same_objects_as_threads(engine: str, dest: str, request: pytest.FixtureRequest, tmp_path: Path,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    executor = request.getfixturevalue("dask_client" if engine == "dask" else "ray_session")
    monkeypatch.setenv("PXFS_MATERIALIZE_BATCH_SIZE", "5")  # 23 rows: 5 batches, the last one short
    Env.reset()
    make_table(tmp_path, dest, 23)
    home = Path(os.environ["PXFS_HOME"])
    copy = threads_copy(home, tmp_path)
    assert pxt.get_table("tbl").materialize(executor=executor, show_progress=False) == 46
    remote = recorded()
    monkeypatch.setenv("PXFS_HOME", str(copy))
    Env.reset()
    assert pxt.get_table("tbl").materialize(executor="threads", show_progress=False) == 46
    assert recorded() == remote  # the same URIs: names are the sha256 of the bytes
    assert len({uri for uri, _, _ in remote.values()}) == 23 and all(w == 64 for _, _, w in remote.values())
    assert cli.main(["verify", "tbl"]) == 0


def test_a_cell_error_comes_back_as_a_recorded_error(dask_client: Any, ray_session: Any, tmp_path: Path) -> None:
    good = write_image(tmp_path / "good.jpg", "JPEG")
    bad = tmp_path / "truncated.jpg"
    bad.write_bytes(good.read_bytes()[: good.stat().st_size // 2])  # a valid header, then half the pixels
    t = pxt.create_table("errs", {"img": pxt.Image, "n": pxt.Int})
    t.insert([{"img": str(good), "n": 1}, {"img": str(bad), "n": 2}])
    t.add_computed_column(dask=t.img.rotate(90), destination=str(tmp_path / "out"))
    t.add_computed_column(ray=t.img.rotate(90), destination=str(tmp_path / "out"))
    assert t.materialize(["dask"], executor=dask_client, show_progress=False) == 2
    assert t.materialize(["ray"], executor="ray", show_progress=False) == 2
    rs = t.order_by(t.n).select(t.dask.fileurl, t.dask.errortype, t.dask.errormsg, t.ray.errormsg).collect()
    assert rs[0]["dask_fileurl"] is not None and rs[0]["dask_errormsg"] is None
    assert rs[1]["dask_fileurl"] is None and rs[1]["dask_errortype"] == "OSError"
    assert "truncated" in rs[1]["dask_errormsg"] and str(bad) in rs[1]["dask_errormsg"]
    assert rs[1]["ray_errormsg"] == rs[1]["dask_errormsg"]
    assert t.materialize(executor=dask_client, show_progress=False) == 0  # recorded, not retried


_READER = textwrap.dedent("""
    import json, os, sys, time
    import pxfs as pxt
    stop, first = sys.argv[1], True
    while not os.path.exists(stop):
        start = time.time()
        t = pxt.get_table("tbl")
        t.count()
        t.select(t.i).limit(5).collect()  # never an owed column: a read of one would compute it
        print("ready" if first else json.dumps([start, time.time()]), flush=True)
        first = False
""")


def test_killed_dask_worker_then_rerun(dask_client: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker dies mid-run: the job finishes or fails cleanly, a rerun completes, every
    cell is recorded once, and another process reads the catalog throughout."""
    monkeypatch.setenv("PXFS_MATERIALIZE_BATCH_SIZE", "4")
    Env.reset()
    out = tmp_path / "out"
    t = make_table(tmp_path, str(out), 160, scale=10)
    stop = tmp_path / "stop"
    reader = subprocess.Popen([sys.executable, "-c", _READER, str(stop)], stdout=subprocess.PIPE, text=True)
    assert reader.stdout is not None and reader.stdout.readline().strip() == "ready"
    counts: list[int] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            counts.append(t.materialize(["rot"], executor=dask_client, show_progress=False))
        except Exception as e:  # a clean failure: KilledWorker after too many deaths
            errors.append(e)

    runner = threading.Thread(target=run)
    began = time.time()
    runner.start()
    deadline = time.monotonic() + 60
    while len(list(out.glob("*.jpg"))) < 12 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert runner.is_alive(), "the job finished before a worker could be killed"
    pids = dask_client.run(os.getpid)
    os.kill(next(iter(pids.values())), signal.SIGKILL)
    runner.join(120)
    ended = time.time()
    assert not runner.is_alive()
    dask_client.wait_for_workers(2, timeout=60)  # the nanny starts a new worker
    counts.append(t.materialize(["rot"], executor=dask_client, show_progress=False))
    stop.touch()
    reads = [json.loads(line) for line in reader.communicate(timeout=60)[0].splitlines()]
    assert reader.returncode == 0
    during = [end - start for start, end in reads if start < ended and end > began]
    print(f"first run: {counts[0] if len(counts) == 2 else errors} in {ended - began:.2f}s; rerun: {counts[-1]}; "
          f"reads during the run: {len(during)}, longest {max(during, default=0):.2f}s")
    assert len(during) >= 2 and max(during) < 3  # three reads; the driver lets go at least every 0.5 s
    assert sum(counts) == 160, (counts, errors)  # no batch was recorded twice
    assert t.materialize(executor=dask_client, show_progress=False) == 160  # the scalar column
    uris = {uri for uri, err, _ in recorded().values()}
    assert None not in uris and len(uris) == 160
    # A worker killed after uploading leaves an object that its retry wrote again (same name).
    assert {p.as_uri() for p in out.glob("*.jpg")} == uris
    assert cli.main(["verify", "tbl"]) == 0


def test_executor_setting_and_addresses(dask_client: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    address = dask_client.scheduler.address  # tcp://127.0.0.1:port
    monkeypatch.setenv("PXFS_EXECUTOR", address.replace("tcp://", "dask://"))
    Env.reset()
    t = make_table(tmp_path, str(tmp_path / "out"), 6)
    t.add_computed_column(flip=t.img.flip("horizontal"), destination=str(tmp_path / "out"))
    with distributed.get_task_stream(dask_client) as stream:
        assert t.limit(2).select(t.rot.fileurl).collect()["rot_fileurl"][0] is not None  # a lazy read
        assert t.materialize(show_progress=False) == 16
    assert any("run_batch" in str(task["key"]) for task in stream.data)
    # Storage is built once per worker process and configuration, not per task.
    after = dask_client.run(_storages_built)
    assert t.materialize(["rot"], executor=address, show_progress=False) == 0
    assert any(after.values()) and dask_client.run(_storages_built) == after
    with pytest.raises(ConfigError, match="expected 'threads'"):
        resolve_executor("spark://x:1")
    with pytest.raises(ConfigError, match="expected 'threads'"):
        resolve_executor(42)


def _storages_built() -> list[int]:
    """The Storage objects this worker process built and keeps (one per configuration)."""
    from pxfs.compute import _batch

    return sorted(id(s) for s in _batch._storages.values())


def test_tasks_carry_no_secret_and_no_driver_path(tmp_path: Path) -> None:
    config = StorageConfig(
        cache_dir=tmp_path / "driver-cache",
        schemes={"minio": SchemeSpec("minio", endpoint_url="http://minio:9000", profile="p",
                                     client_kwargs={"aws_secret_access_key": "s3cr3t", "region_name": "x"})},
        azure=AzureSettings(account_name="acct", account_key="azkey", connection_string="AccountKey=azkey",
                            sas_token="sv=sig"),
        gcs=GcsSettings(credentials_file='{"private_key": "pem"}'),
    )
    portable = portable_config(config)
    data = pickle.dumps(portable)
    for secret in (b"s3cr3t", b"azkey", b"sv=sig", b"pem"):
        assert secret not in data
    assert pickle.loads(data) == portable
    assert portable.schemes["minio"].profile == "p" and portable.azure.account_name == "acct"
    assert portable_config(StorageConfig(gcs=GcsSettings(credentials_file="/keys/sa.json"))).gcs.credentials_file == "/keys/sa.json"
    assert str(tmp_path) not in str(portable.cache_dir)  # a worker caches in its own PXFS_HOME


def test_import_pxfs_loads_neither_dask_nor_ray() -> None:
    code = ("import sys, pxfs, pxfs.compute; t = pxfs.create_table; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'dask', 'distributed', 'ray'}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
