"""The shared backend suite on S3 and every S3-compatible scheme, each against moto_server.

Each scheme gets its own profile in a temporary AWS credentials file, with its own key
id; moto ignores credentials, so the tests prove which profile was used by reading the
key id a presigned URL carries.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from pxfs.env import Env
from pxfs.session import Session
from pxfs.storage import Storage
from pxfs.testing import MotoServer

from .cases import BackendTests

PROFILES = {"s3": "AKIAS3PROFILE", "r2": "AKIAR2PROFILE", "b2": "AKIAB2PROFILE",
            "tigris": "AKIATIGRISPROFILE", "minio": "AKIAMINIOPROFILE"}


def write_aws_files(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    creds = root / "credentials"
    creds.write_text("".join(
        f"[{scheme}-profile]\naws_access_key_id = {key}\naws_secret_access_key = secret-{scheme}\n\n"
        for scheme, key in PROFILES.items()
    ))
    config = root / "config"
    config.write_text("".join(f"[profile {scheme}-profile]\nregion = us-east-1\n\n" for scheme in PROFILES))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(creds))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))


def configure(scheme: str, endpoint: str, home: Path, monkeypatch: pytest.MonkeyPatch) -> Storage:
    """Point `scheme` at moto the way a user would, with that scheme's profile."""
    write_aws_files(home, monkeypatch)
    if scheme == "s3":
        monkeypatch.setenv("AWS_ENDPOINT_URL_S3", endpoint)  # the AWS config chain
        monkeypatch.setenv("PXFS_S3_PROFILE", "s3-profile")
    elif scheme == "minio":
        (home / "config.toml").write_text(
            f'[pxfs.schemes.minio]\ntype = "s3"\nendpoint_url = "{endpoint}"\nprofile = "minio-profile"\n'
        )
    else:
        monkeypatch.setenv(f"PXFS_{scheme.upper()}_ENDPOINT_URL", endpoint)
        monkeypatch.setenv(f"PXFS_{scheme.upper()}_PROFILE", f"{scheme}-profile")
    return Session.reset_default().storage


class S3Base(BackendTests):
    scheme = "s3"
    prefix_form = "{scheme}://{bucket}"

    @pytest.fixture
    def storage(self, moto_server: MotoServer, _isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> Storage:
        return configure(self.scheme, moto_server.endpoint_url, _isolated_env, monkeypatch)

    @pytest.fixture
    def dest(self, moto_server: MotoServer, storage: Storage) -> str:
        bucket = f"{self.scheme}-{uuid.uuid4().hex[:12]}"
        moto_server.create_bucket(bucket)
        return self.prefix_form.format(scheme=self.scheme, bucket=bucket) + "/media/"

    def test_presigned_url_is_sigv4_with_the_schemes_profile(self, storage: Storage, dest: str) -> None:
        uri = storage.put(b"signed", dest)
        query = parse_qs(urlsplit(storage.url(uri, expires_in=120)).query)
        assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
        assert query["X-Amz-Credential"][0].startswith(PROFILES[self.scheme] + "/")
        assert query["X-Amz-Expires"] == ["120"]
        assert uri.startswith(storage.location(dest).uri)

    def test_missing_bucket_names_bucket_and_endpoint(self, storage: Storage, moto_server: MotoServer) -> None:
        dest = self.prefix_form.format(scheme=self.scheme, bucket="no-such-bucket-here") + "/x/"
        with pytest.raises(FileNotFoundError) as e:
            storage.put(b"x", dest)
        assert "no-such-bucket-here" in str(e.value) and moto_server.endpoint_url in str(e.value)
        assert "create it" in str(e.value)


class TestS3(S3Base):
    scheme = "s3"


class TestR2(S3Base):
    scheme = "r2"


class TestB2(S3Base):
    scheme = "b2"


class TestTigris(S3Base):
    scheme = "tigris"


class TestTigrisHttpsForm(S3Base):
    scheme = "tigris"
    prefix_form = "https://t3.storage.dev/{bucket}"


class TestUserAlias(S3Base):
    scheme = "minio"


def test_alias_profile_wins_over_environment_keys(
    moto_server: MotoServer, _isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAENVIRONMENT")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "env-secret")
    storage = configure("r2", moto_server.endpoint_url, _isolated_env, monkeypatch)
    moto_server.create_bucket("r2-precedence")
    url = storage.url("r2://r2-precedence/k.jpg")
    assert "AKIAR2PROFILE%2F" in url or "AKIAR2PROFILE/" in url


def test_filesystems_are_cached_per_scheme_endpoint_profile(
    moto_server: MotoServer, _isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage = configure("r2", moto_server.endpoint_url, _isolated_env, monkeypatch)
    a = storage.filesystem(storage.location("r2://bucket-one/a"))
    b = storage.filesystem(storage.location("r2://bucket-two/b"))
    assert a is b
    monkeypatch.setenv("PXFS_B2_ENDPOINT_URL", moto_server.endpoint_url)
    storage = Session.reset_default().storage
    assert storage.filesystem(storage.location("b2://bucket-one/a")) is not storage.filesystem(
        storage.location("r2://bucket-one/a")
    )


def test_alias_without_endpoint_says_what_to_set(_isolated_env: Path) -> None:
    storage = Session.reset_default().storage
    from pxfs.errors import ConfigError

    with pytest.raises(ConfigError, match="r2_endpoint_url or r2_account_id"):
        storage.put(b"x", "r2://bucket/x/")


def test_r2_account_id_and_b2_region_give_endpoints(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PXFS_R2_ACCOUNT_ID", "abc123")
    monkeypatch.setenv("PXFS_B2_REGION", "us-west-004")
    st = Session.reset_default().storage
    assert st.location("r2://bkt/x").endpoint_url == "https://abc123.r2.cloudflarestorage.com"
    assert st.location("b2://bkt/x").endpoint_url == "https://s3.us-west-004.backblazeb2.com"
    assert st.location("tigris://bkt/x").endpoint_url == "https://t3.storage.dev"


def test_profile_endpoint_url_is_used_for_s3(
    moto_server: MotoServer, _isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_aws_files(_isolated_env, monkeypatch)
    cfg = Path(_isolated_env / "config")
    cfg.write_text(cfg.read_text() + f"[profile ep]\nendpoint_url = {moto_server.endpoint_url}\n")
    monkeypatch.setenv("PXFS_S3_PROFILE", "ep")
    assert Session.reset_default().storage.location("s3://bkt/x").endpoint_url == moto_server.endpoint_url


def test_batch_urls_equal_botocore_and_are_fetchable(
    moto_server: MotoServer, _isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import urllib.request

    storage = configure("s3", moto_server.endpoint_url, _isolated_env, monkeypatch)
    moto_server.create_bucket("batch-urls")
    keys = ["plain.jpg", "with space.jpg", "ünï+cödé.png", "deep/er/path.bin"]
    uris = [storage.put(k.encode(), "s3://batch-urls/m/", name=k) for k in keys]
    urls = storage.urls([*uris, None], expires_in=300)
    assert urls[-1] is None
    for uri, url, key in zip(uris, urls, keys):
        query = parse_qs(urlsplit(url).query)  # type: ignore[arg-type]
        assert query["X-Amz-Credential"][0].startswith(PROFILES["s3"] + "/") and query["X-Amz-Expires"] == ["300"]
        with urllib.request.urlopen(url) as r:
            assert r.read() == key.encode()
        # the same signature botocore computes for the same timestamp
        botocore_url = storage.url(uri, expires_in=300)
        if parse_qs(urlsplit(botocore_url).query)["X-Amz-Date"] == query["X-Amz-Date"]:
            assert botocore_url == url
