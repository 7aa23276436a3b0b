"""Fixtures of the reliability suite: a printed, replayable seed and the stores it runs on.

Random moments come from ``random.Random(seed)``. The seed is printed (pytest shows it
with the output of a failing test) and named in assertion messages; to replay a failure::

    PXFS_RELIABILITY_SEED=<seed> .venv/bin/python -m pytest tests/reliability -k <test>

(The variable is read when this module is imported: the suite's autouse fixture removes
every ``PXFS_*`` variable from the environment of each test.)
"""

from __future__ import annotations

import os
import random
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from pxfs.env import Env

from ._support import Store

SEED_VARIABLE = "PXFS_RELIABILITY_SEED"
_SEED_GIVEN = os.environ.get(SEED_VARIABLE)


@dataclass
class Seeded:
    seed: int
    rng: random.Random

    def __str__(self) -> str:
        return f"seed {self.seed} (replay with {SEED_VARIABLE}={self.seed})"


@pytest.fixture
def seeded(request: pytest.FixtureRequest) -> Seeded:
    seed = int(_SEED_GIVEN) if _SEED_GIVEN else random.SystemRandom().randrange(2**31)
    print(f"\n{request.node.nodeid}: reliability seed {seed} (replay with {SEED_VARIABLE}={seed})")
    return Seeded(seed, random.Random(seed))


def make_store(kind: str, request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Store:
    """Configure pxfs (through the environment, which child processes inherit) for `kind`."""
    if kind == "local":
        return Store("local", str((tmp_path / "bucket").resolve()))
    assert kind == "s3", kind
    moto = request.getfixturevalue("moto_server")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", moto.endpoint_url)
    bucket = f"rel-{uuid.uuid4().hex[:12]}"
    moto.create_bucket(bucket)
    Env.reset()
    return Store("s3", f"s3://{bucket}/media", endpoint_url=moto.endpoint_url)


@pytest.fixture(params=[pytest.param("s3", marks=pytest.mark.emulator), "local"])
def store(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Store:
    """A moto bucket or a local folder, with ``input_media_dest`` under it."""
    s = make_store(request.param, request, tmp_path, monkeypatch)
    monkeypatch.setenv("PXFS_INPUT_MEDIA_DEST", s.sub("input"))
    Env.reset()
    return s
