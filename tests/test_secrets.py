"""No configured secret shows in a repr, a message, ``pxfs config`` or a log line.

Secrets are placed where users put them: ``client_kwargs`` / ``config_kwargs`` of a
``[pxfs.schemes.<alias>]`` table, ``[azure]`` (key, SAS token), Azure's variables
(connection string with a key and a SAS). Each test looks for the secret values
themselves in everything pxfs shows, and for the non-secret values (``region_name``)
that help users.
"""

from __future__ import annotations

import logging
import traceback
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from pxfs.env import Env
from pxfs.session import Session
from pxfs.errors import BucketNotFoundError, ConfigError
from pxfs.storage import SchemeSpec, StorageConfig
from pxfs.testing import Azurite, MotoServer

AWS_KEY_ID = "AKIAPXFSSECRETKEYID01"
AWS_SECRET = "pxfs-aws-secret-4fQ9zX1vB7nM3kL0pWs2"
AWS_TOKEN = "pxfs-aws-session-token-Zq81Lm0Pt6Yr5Ew2"
PROXY_PASSWORD = "pxfs-proxy-password-Hh7"
AZURE_KEY = "cHhmcy1henVyZS1hY2NvdW50LWtleS1zZWNyZXQ="
AZURE_SAS = "sv=2023-11-03&sr=c&sp=rl&se=2099-01-01T00%3A00%3A00Z&sig=cHhmc1NBU3NpZ25hdHVyZQ%3D%3D"
SAS_SIGNATURE = "cHhmc1NBU3NpZ25hdHVyZQ"
CONN_KEY = "cHhmcy1jb25uZWN0aW9uLXN0cmluZy1rZXk="
SECRETS = (AWS_KEY_ID, AWS_SECRET, AWS_TOKEN, PROXY_PASSWORD, AZURE_KEY, AZURE_SAS, SAS_SIGNATURE, CONN_KEY)


def assert_no_secret(*texts: str) -> None:
    for text in texts:
        for secret in SECRETS:
            assert secret not in text, f"secret {secret[:12]}... shown in: {text}"


def alias_config(endpoint: str) -> str:
    """``config.toml`` with secrets in alias options and in [azure]."""
    return f"""
[pxfs.schemes.minio]
type = "s3"
endpoint_url = "{endpoint}"
client_kwargs = {{ region_name = "eu-west-1", aws_access_key_id = "{AWS_KEY_ID}", aws_secret_access_key = "{AWS_SECRET}", aws_session_token = "{AWS_TOKEN}" }}
config_kwargs = {{ s3 = {{ addressing_style = "path" }}, signature_version = "s3v4" }}

[pxfs.schemes.vault]
type = "s3"
endpoint_url = "http://vault-user:{PROXY_PASSWORD}@127.0.0.1:1/"
config_kwargs = {{ proxies = {{ https = "http://proxy-user:{PROXY_PASSWORD}@127.0.0.1:3128" }} }}

[azure]
account_name = "pxfsacct"
account_key = "{AZURE_KEY}"
sas_token = "{AZURE_SAS}"
"""


@pytest.fixture
def configured(_isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> Env:
    """Secrets in config.toml (aliases, [azure]) and in Azure's connection string variable."""
    (_isolated_env / "config.toml").write_text(alias_config("http://127.0.0.1:9000"))
    monkeypatch.setenv(
        "AZURE_STORAGE_CONNECTION_STRING",
        f"DefaultEndpointsProtocol=https;AccountName=pxfsacct;AccountKey={CONN_KEY};SharedAccessSignature={AZURE_SAS}",
    )
    return Env.reset()


@pytest.fixture
def pxfs_debug_logging(monkeypatch: pytest.MonkeyPatch) -> Iterator[logging.Logger]:
    """``PXFS_LOGGING_LEVEL=DEBUG`` for one test; pxfs's logger is restored afterwards."""
    logger = logging.getLogger("pxfs")
    level, handlers = logger.level, list(logger.handlers)
    monkeypatch.setenv("PXFS_LOGGING_LEVEL", "DEBUG")
    yield logger
    for handler in logger.handlers:
        if handler not in handlers:
            logger.removeHandler(handler)
    logger.setLevel(level)


# -- reprs, describe(), pxfs config --------------------------------------------------------


def test_alias_options_are_masked_in_the_storage_config(configured: Env) -> None:
    cfg = configured.storage_config()
    minio = cfg.schemes["minio"]
    assert minio.client_kwargs["aws_secret_access_key"] == AWS_SECRET  # the value itself is kept
    texts = [repr(cfg), repr(minio), str(minio), repr(cfg.schemes["vault"]), repr(cfg.azure), repr(Session(env=configured).storage)]
    assert_no_secret(*texts)
    shown = repr(minio)
    assert "'region_name': 'eu-west-1'" in shown and "'aws_secret_access_key': '****'" in shown
    assert "'aws_session_token': '****'" in shown and "'addressing_style': 'path'" in shown
    assert "'signature_version': 's3v4'" in shown
    assert "vault-user:****@127.0.0.1" in repr(cfg.schemes["vault"])


def test_a_spec_built_by_hand_masks_its_secrets() -> None:
    spec = SchemeSpec("minio", client_kwargs={"aws_secret_access_key": AWS_SECRET, "region_name": "us-east-1"},
                      config_kwargs={"proxies_config": {"proxy_client_key": AWS_TOKEN}})
    assert_no_secret(repr(spec), repr(StorageConfig(schemes={"minio": spec})))
    assert "us-east-1" in repr(spec)


def test_env_repr_and_describe_mask_every_secret(configured: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PXFS_AZURE_ACCOUNT_KEY", AZURE_KEY)
    monkeypatch.setenv("PXFS_AZURE_CONNECTION_STRING", f"AccountName=pxfsacct;AccountKey={CONN_KEY}")
    env = Env.reset()
    rows = env.describe()
    assert_no_secret(repr(env), str(env), str(rows))
    described = {key: value for key, value, _ in rows}
    assert described["azure_account_key"] == "****" and described["azure_connection_string"] == "****"
    assert "'region_name': 'eu-west-1'" in described["schemes.minio"]
    assert "'aws_secret_access_key': '****'" in described["schemes.minio"]
    assert "proxy-user:****@" in described["schemes.vault"]


def test_pxfs_config_shows_no_secret(configured: Env, capsys: pytest.CaptureFixture[str]) -> None:
    from pxfs.cli import main

    assert main(["config"]) == 0
    out, err = capsys.readouterr()
    assert_no_secret(out, err)
    line = next(line for line in out.splitlines() if line.startswith("schemes.minio"))
    assert "eu-west-1" in line and "****" in line


# -- messages -------------------------------------------------------------------------------


def test_a_malformed_alias_table_is_reported_without_its_value(_isolated_env: Path) -> None:
    (_isolated_env / "config.toml").write_text(
        f'[pxfs.schemes.minio]\ntype = "s3"\nclient_kwargs = "aws_secret_access_key={AWS_SECRET}"\n'
    )
    with pytest.raises(ConfigError) as e:
        Env.reset()
    assert "client_kwargs" in str(e.value) and "[pxfs.schemes.minio]" in str(e.value)
    assert_no_secret(str(e.value), repr(e.value))


def test_storage_errors_of_an_alias_with_secrets_show_none(
    moto_server: MotoServer, _isolated_env: Path
) -> None:
    (_isolated_env / "config.toml").write_text(alias_config(moto_server.endpoint_url))
    storage = Session.reset_default().storage
    with pytest.raises(BucketNotFoundError) as e:
        storage.put(b"x", f"minio://no-such-bucket-{uuid.uuid4().hex[:8]}/media/")
    assert_no_secret(str(e.value), repr(e.value), "".join(traceback.format_exception(e.value)))


# -- log lines ------------------------------------------------------------------------------


def test_debug_log_lines_show_no_secret(
    moto_server: MotoServer,
    azurite: Azurite,
    _isolated_env: Path,
    pxfs_debug_logging: logging.Logger,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every storage call pxfs logs at DEBUG, on S3 (alias with secret options) and Azure."""
    caplog.set_level(logging.DEBUG, logger="pxfs")
    (_isolated_env / "config.toml").write_text(alias_config(moto_server.endpoint_url).split("[azure]")[0])
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite.connection_string)
    storage = Session.reset_default().storage
    assert pxfs_debug_logging.isEnabledFor(logging.DEBUG)
    bucket = f"secrets-{uuid.uuid4().hex[:8]}"
    moto_server.create_bucket(bucket)
    uris = [s.uri for s in storage.put_many([b"one", b"two", b"three"], f"minio://{bucket}/media/")]
    storage.urls(uris)
    assert storage.cat(uris[0]) == b"one"
    with pytest.raises(FileNotFoundError):
        storage.put(b"x", f"minio://no-such-{bucket}/media/")
    container = f"c{uuid.uuid4().hex[:12]}"
    azurite.create_container(container)
    blob = storage.put(b"azure", f"az://{container}/media/")
    storage.url(blob)
    assert storage.cat(blob) == b"azure"
    sas = container_sas(azurite, container)
    conn = f"BlobEndpoint={azurite.blob_endpoint};SharedAccessSignature={sas}"
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", conn)
    storage = Session.reset_default().storage
    assert storage.cat(storage.put(b"with the SAS", f"az://{container}/sas/")) == b"with the SAS"
    with pytest.raises(PermissionError):
        storage.url(blob)
    out, err = capfd.readouterr()
    texts = [caplog.text, out, err, *(record.getMessage() for record in caplog.records)]
    assert_no_secret(*texts)
    for text in texts:
        assert azurite.account_key not in text and sas not in text and "sig=" not in text


def container_sas(azurite: Azurite, container: str) -> str:
    """A SAS token for the whole container (read, list, write), made with Azurite's key."""
    from azure.storage.blob import ContainerSasPermissions, generate_container_sas

    return str(generate_container_sas(
        azurite.account_name, container, account_key=azurite.account_key,
        permission=ContainerSasPermissions(read=True, list=True, write=True, create=True),
        expiry=datetime.now(timezone.utc) + timedelta(hours=1),
    ))


# -- obstore's S3 settings and credentials, GOOGLE_APPLICATION_CREDENTIALS holding the key itself --


def test_the_obstore_settings_repr_shows_no_secret() -> None:
    from botocore.credentials import Credentials

    from pxfs.storage._s3store import ObstoreS3, S3Settings, _Credentials

    creds = _Credentials(Credentials(AWS_KEY_ID, AWS_SECRET, AWS_TOKEN))
    assert creds()["secret_access_key"] == AWS_SECRET  # what obstore is given
    settings = S3Settings(endpoint_url=f"http://u:{PROXY_PASSWORD}@127.0.0.1:9000", region="us-east-1",
                          virtual_hosted=False, verify=True, proxy_url=None, connect_timeout=5, request_timeout=20,
                          retries=1, concurrency=64, unsigned_payload=False, credentials=creds)
    for shown in (repr(creds), repr(settings), repr(ObstoreS3(settings))):
        assert AWS_SECRET not in shown and AWS_TOKEN not in shown and PROXY_PASSWORD not in shown
    assert "127.0.0.1:9000" in repr(settings) and "us-east-1" in repr(settings)


GCS_KEY = "-----BEGIN PRIVATE KEY-----\\npxfs-gcs-private-key-Yt5Rq\\n-----END PRIVATE KEY-----\\n"
GCS_JSON_KEY = '{"type": "service_account", "private_key": "' + GCS_KEY + '", "client_email": "a@b.iam"}'


@pytest.mark.parametrize("value", [
    GCS_JSON_KEY,  # the JSON key pasted into the variable
    GCS_JSON_KEY.replace("{", "").replace("}", "").replace("\\n", " ") * 60,  # longer than any path
    "a" * 300 + "pxfs-gcs-private-key-Yt5Rq",  # longer than any file name (base64 of a key, say)
])
def test_gcs_credentials_variable_holding_the_key_is_masked(
    value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pxfs.storage._gcs import _Auth

    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", value)
    storage = Session.reset_default().storage
    with pytest.raises(ConfigError) as e:
        storage.put(b"x", "gs://bucket-name/media/")
    texts = [str(e.value), repr(e.value), "".join(traceback.format_exception(e.value)),
             _Auth(endpoint_url=None, credentials_file=value).describe(), repr(Env.get())]
    for text in texts:
        assert "pxfs-gcs-private-key-Yt5Rq" not in text, text
    assert "GOOGLE_APPLICATION_CREDENTIALS names ****, which is not a file" in str(e.value)
    assert "gs://bucket-name/media" in str(e.value)


def test_gcs_credentials_path_is_still_shown(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pxfs.storage._gcs import _Auth

    path = str(tmp_path / "keys" / "service-account.json")
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", path)
    with pytest.raises(ConfigError, match=f"names {path}, which is not a file"):
        Session.reset_default().storage.put(b"x", "gs://bucket-name/media/")
    assert _Auth(endpoint_url=None, credentials_file=path).describe() == f"credentials file {path}"
