"""Configuration: precedence, validation with the source named, secrets masked."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import pxfs as pxt
from pxfs.env import Env
from pxfs.session import Session
from pxfs.errors import ConfigError


def write_config(text: str) -> Path:
    path = Path(os.environ["PXFS_HOME"]) / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_precedence_init_over_env_over_file_over_default(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Env.reset().default_output_media_dest is None and Env.get().source_of("output_media_dest") == "default"
    path = write_config('[pxfs]\noutput_media_dest = "s3://from-file/x/"\ninput_media_dest = "s3://from-file/in/"\n')
    env = Env.reset()
    assert env.default_output_media_dest == "s3://from-file/x/" and str(path) in env.source_of("output_media_dest")
    monkeypatch.setenv("PXFS_OUTPUT_MEDIA_DEST", "s3://from-env/x/")
    env = Env.reset()
    assert env.default_output_media_dest == "s3://from-env/x/"
    assert env.source_of("output_media_dest") == "PXFS_OUTPUT_MEDIA_DEST"
    assert env.default_input_media_dest == "s3://from-file/in/"
    pxt.init({"output_media_dest": "s3://from-init/x/"})
    assert Env.get().default_output_media_dest == "s3://from-init/x/"
    assert Env.get().source_of("output_media_dest") == "pxfs.init()"
    pxt.init()  # reloads without overrides
    assert Env.get().default_output_media_dest == "s3://from-env/x/"


def test_pxfs_home_default(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("PXFS_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert Env.reset().home == tmp_path / ".pxfs"


def test_unknown_keys_are_named_with_their_source(monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_config('[pxfs]\noutput_media_dst = "s3://x/y"\n')
    with pytest.raises(ConfigError) as e:
        Env.reset()
    assert str(path) in str(e.value) and "output_media_dst" in str(e.value)
    path.unlink()
    monkeypatch.setenv("PXFS_OUTPUT_DEST", "x")
    with pytest.raises(ConfigError, match="PXFS_OUTPUT_DEST"):
        Env.reset()
    monkeypatch.delenv("PXFS_OUTPUT_DEST")
    with pytest.raises(ConfigError, match=r"'nope' passed to pxfs.init\(\)"):
        pxt.init({"nope": 1})


@pytest.mark.parametrize("value, message", [
    ("s3://", "names no bucket"),
    ("https://example.com/media/", "web address"),
    ("weird://bucket/x", "unknown scheme 'weird'"),
])
def test_bad_destinations_name_the_variable(value: str, message: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PXFS_INPUT_MEDIA_DEST", value)
    with pytest.raises(ConfigError) as e:
        Env.reset()
    assert "input_media_dest" in str(e.value) and "PXFS_INPUT_MEDIA_DEST" in str(e.value) and message in str(e.value)


def test_bad_values_and_tables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PXFS_UPLOAD_CONCURRENCY", "many")
    with pytest.raises(ConfigError, match="upload_concurrency .PXFS_UPLOAD_CONCURRENCY.: expected an integer >= 1"):
        Env.reset()
    monkeypatch.delenv("PXFS_UPLOAD_CONCURRENCY")
    write_config('[pxfs.schemes.minio]\ntype = "gcs"\n')
    with pytest.raises(ConfigError, match=r'\[pxfs.schemes.minio\] type must be "s3"'):
        Env.reset()
    write_config('[pxfs.public_urls]\n"s3://bucket-name/public/" = "ftp://cdn"\n')
    with pytest.raises(ConfigError, match="must be an http"):
        Env.reset()
    write_config("[pxfs\n")
    with pytest.raises(ConfigError, match="cannot read"):
        Env.reset()


def test_user_alias_and_public_urls_from_config_toml() -> None:
    write_config(
        '[pxfs]\noutput_media_dest = "minio://bucket-name/out/"\n'
        '[pxfs.schemes.minio]\ntype = "s3"\nendpoint_url = "http://127.0.0.1:9000"\nprofile = "minio"\n'
        '[pxfs.public_urls]\n"minio://bucket-name/out/" = "https://cdn.example.com/media"\n'
    )
    storage = Session.reset_default().storage
    loc = storage.location("minio://bucket-name/out/a b.jpg")
    assert (loc.endpoint_url, loc.profile) == ("http://127.0.0.1:9000", "minio")
    assert pxt.url("minio://bucket-name/out/a b.jpg") == "https://cdn.example.com/media/a%20b.jpg"
    # a prefix covers whole path segments only: out/ does not cover outside/
    assert storage._public_base(storage.location("minio://bucket-name/outside/x.jpg")) is None


def test_secrets_are_masked_everywhere(monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "c3VwZXJzZWNyZXRrZXk="
    monkeypatch.setenv("PXFS_AZURE_ACCOUNT_KEY", secret)
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING",
                       f"DefaultEndpointsProtocol=http;AccountName=acct;AccountKey={secret};"
                       "BlobEndpoint=http://127.0.0.1:10000/acct;")
    session = Session.reset_default()
    env = session.env
    texts = [repr(env), str(env.describe()), repr(env.storage_config()), repr(session.storage), repr(session)]
    assert all(secret not in t for t in texts)
    assert ("azure_account_key", "****", "PXFS_AZURE_ACCOUNT_KEY") in env.describe()
    # the connection string's BlobEndpoint is recognised as that account's URL form
    loc = session.storage.location("http://127.0.0.1:10000/acct/container/x.jpg")
    assert (loc.kind, loc.bucket, loc.key) == ("azure", "container", "x.jpg")


def test_docs_list_every_setting_as_the_table_says() -> None:
    from pxfs._settings import markdown_table

    page = (Path(__file__).parents[1] / "docs" / "destinations.md").read_text()
    assert markdown_table() in page, "docs/destinations.md is stale: paste `python -m pxfs._settings` into it"
