"""The shared backend suite against s3rver, a second S3 implementation beside moto.

s3rver 3.7.1 checks the access key id of every request and SigV2 signatures, but not SigV4
ones ("Signature version 4 calculation is unimplemented", lib/middleware/authentication.js):
a wrong secret passes, an unknown key id gets 403. So here obstore's uploads and presigned
URLs, s3fs's reads and a computed column work against a second implementation, and an
unknown key id is refused; SigV4 signatures themselves are checked against botocore's
signer in test_s3_obstore.py. pxfs reaches s3rver as a user alias with its own profile.
"""

from __future__ import annotations

import io
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from pxfs.env import Env
from pxfs.session import Session
from pxfs.errors import AccessDeniedError
from pxfs.storage import Storage
from pxfs.testing import S3rver

from .cases import BackendTests

OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def configure(server: S3rver, home: Path, monkeypatch: pytest.MonkeyPatch, key_id: str | None = None) -> Storage:
    """An ``s3rver://`` alias with a profile holding s3rver's key (or `key_id` instead of its own)."""
    creds = home / "aws-credentials"
    creds.write_text(f"[s3rver-profile]\naws_access_key_id = {key_id or server.access_key_id}\n"
                     f"aws_secret_access_key = {server.secret_access_key}\n")
    config = home / "aws-config"
    config.write_text("[profile s3rver-profile]\nregion = us-east-1\n")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(creds))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    (home / "config.toml").write_text(
        f'[pxfs.schemes.s3rver]\ntype = "s3"\nendpoint_url = "{server.endpoint_url}"\nprofile = "s3rver-profile"\n'
    )
    return Session.reset_default().storage


def fresh_bucket(server: S3rver) -> str:
    bucket = f"pxfs-{uuid.uuid4().hex[:12]}"
    server.create_bucket(bucket)
    return bucket


class TestS3rver(BackendTests):
    scheme = "s3rver"

    @pytest.fixture
    def storage(self, s3rver: S3rver, _isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> Storage:
        return configure(s3rver, _isolated_env, monkeypatch)

    @pytest.fixture
    def dest(self, s3rver: S3rver, storage: Storage) -> str:
        return f"s3rver://{fresh_bucket(s3rver)}/media/"


def test_put_many_url_and_open(s3rver: S3rver, _isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    storage = configure(s3rver, _isolated_env, monkeypatch)
    dest = f"s3rver://{fresh_bucket(s3rver)}/m/"
    blobs = [f"object {i}".encode() * 100 for i in range(20)]
    stored = storage.put_many(blobs, dest, name_prefixes=["a b/"] * 10 + ["é+=/"] * 10)
    urls = storage.urls([s.uri for s in stored], expires_in=300)
    for blob, s, url in zip(blobs, stored, urls):
        assert url is not None
        assert parse_qs(urlsplit(url).query)["X-Amz-Credential"][0].startswith("S3RVER/")
        with OPENER.open(url) as r:  # a plain GET of obstore's presigned URL
            assert r.read() == blob
        with storage.open(s.uri) as f:  # s3fs, through the cache
            assert f.read() == blob
        assert url.startswith(s3rver.endpoint_url)


def test_an_unknown_key_id_is_refused(s3rver: S3rver, _isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    storage = configure(s3rver, _isolated_env, monkeypatch)
    uri = storage.put(b"secret bytes", f"s3rver://{fresh_bucket(s3rver)}/m/")
    wrong = configure(s3rver, _isolated_env, monkeypatch, key_id="AKIANOTS3RVER")
    with pytest.raises(urllib.error.HTTPError) as e:  # obstore's presigned URL, fetched by plain GET
        OPENER.open(wrong.url(uri))
    assert e.value.code == 403
    with pytest.raises(AccessDeniedError) as denied:  # an upload: refused, and said so
        wrong.put(b"more", uri.rsplit("/", 1)[0] + "/")
    assert "InvalidAccessKeyId" in str(denied.value) and "s3rver://" in str(denied.value)


def test_a_computed_column_on_s3rver(s3rver: S3rver, _isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import pxfs as pxt
    from PIL import Image

    configure(s3rver, _isolated_env, monkeypatch)
    bucket = fresh_bucket(s3rver)
    paths = []
    for i in range(4):
        p = _isolated_env / f"img{i}.png"
        Image.new("RGB", (32 + i, 16), (i * 40, 0, 0)).save(p)
        paths.append(p)
    t = pxt.create_table("on_s3rver", {"img": pxt.Image})
    t.insert([{"img": str(p)} for p in paths])
    t.add_computed_column(rotated=t.img.rotate(90), destination=f"s3rver://{bucket}/out/")
    rows = t.select(t.rotated, t.rotated.fileurl, t.rotated.url).collect()
    for i, row in enumerate(rows):
        assert row["rotated_fileurl"].startswith(f"s3rver://{bucket}/out/")
        want = Image.open(paths[i]).rotate(90)
        assert row["rotated"].size == want.size
        with OPENER.open(row["rotated_url"]) as r:
            assert Image.open(io.BytesIO(r.read())).size == want.size
