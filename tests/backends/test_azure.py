"""The shared backend suite on Azure Blob Storage (adlfs) against Azurite, plus Azure specifics.

Azurite checks SharedKey and SAS signatures, so these tests prove which key was used by
whether Azurite accepts a request or a SAS URL. A SAS signature covers the account, the
container and the blob, not the host, so a URL signed for
``https://devstoreaccount1.blob.core.windows.net`` is checked against Azurite by swapping
the host for Azurite's BlobEndpoint.
"""

from __future__ import annotations

import time
import urllib.error
import urllib.request
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import pytest

from pxfs.env import Env
from pxfs.session import Session
from pxfs.errors import (
    AccessDeniedError,
    BucketNotFoundError,
    ConfigError,
    EndpointTimeoutError,
    EndpointUnreachableError,
)
from pxfs.storage import Storage
from pxfs.testing import Azurite, SilentServer

from .cases import BackendTests, fetch

pytestmark = pytest.mark.emulator

PUBLIC_ACCOUNT_URL = "https://devstoreaccount1.blob.core.windows.net"
# A well-formed key that is not Azurite's.
WRONG_KEY = "V3JvbmdLZXlXcm9uZ0tleVdyb25nS2V5V3JvbmdLZXlXcm9uZ0tleVdyb25nS2V5V3JvbmdLZXk="


def use_connection_string(conn: str, monkeypatch: pytest.MonkeyPatch) -> Storage:
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", conn)
    return Session.reset_default().storage


def new_container(azurite: Azurite) -> str:
    name = f"c{uuid.uuid4().hex[:12]}"
    azurite.create_container(name)
    return name


def http_get(url: str) -> tuple[int, bytes, str | None]:
    """(status, body, Content-Type) of a plain GET; HTTP errors are returned, not raised."""
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            return r.status, r.read(), r.headers.get("Content-Type")
    except urllib.error.HTTPError as e:
        with e:
            return e.code, e.read(), None


def on_azurite(url: str, azurite: Azurite) -> str:
    """`url` signed for the public account URL, sent to Azurite instead."""
    assert url.startswith(PUBLIC_ACCOUNT_URL + "/"), url
    return azurite.blob_endpoint + url[len(PUBLIC_ACCOUNT_URL):]


class AzureBase(BackendTests):
    """The shared suite, with the destination written as `prefix_form`."""

    prefix_form = "az://{container}"

    @pytest.fixture
    def storage(self, azurite: Azurite, monkeypatch: pytest.MonkeyPatch) -> Storage:
        return use_connection_string(azurite.connection_string, monkeypatch)

    @pytest.fixture
    def dest(self, azurite: Azurite, storage: Storage) -> str:
        container = new_container(azurite)
        return self.prefix_form.format(container=container, endpoint=azurite.blob_endpoint) + "/media/"

    def test_sas_url_is_accepted_and_a_tampered_one_is_refused(self, storage: Storage, dest: str) -> None:
        data = b"\xff\xd8\xff" + uuid.uuid4().bytes * 8
        uri = storage.put(data, dest)
        url = storage.url(uri, expires_in=300)
        query = parse_qs(urlsplit(url).query)
        assert query["sp"] == ["r"] and "sig" in query
        assert http_get(url)[:2] == (200, data)
        head, _, rest = url.partition("&sig=")
        _, amp, tail = rest.partition("&")
        sig = query["sig"][0]
        tampered = f"{head}&sig={quote(('A' if sig[0] != 'A' else 'B') + sig[1:], safe='')}{amp}{tail}"
        assert parse_qs(urlsplit(tampered).query)["sig"][0] != sig
        assert http_get(tampered)[0] == 403

    def test_sas_url_expiry_follows_expires_in(self, storage: Storage, dest: str) -> None:
        uri = storage.put(b"expiry", dest)
        query = parse_qs(urlsplit(storage.url(uri, expires_in=120)).query)
        expiry = time.mktime(time.strptime(query["se"][0], "%Y-%m-%dT%H:%M:%SZ")) - time.timezone
        assert abs(expiry - (time.time() + 120)) < 30

    def test_objects_get_their_content_type(self, storage: Storage, dest: str, tmp_path: Path) -> None:
        png = storage.put(b"\x89PNG\r\n\x1a\n" + uuid.uuid4().bytes, dest, name="image.png")
        assert http_get(storage.url(png))[2] == "image/png"
        src = tmp_path / "clip.mp4"
        src.write_bytes(uuid.uuid4().bytes)
        mp4 = storage.put(src, dest)
        assert http_get(storage.url(mp4))[2] == "video/mp4"

    def test_missing_container_names_container_and_endpoint(self, storage: Storage, azurite: Azurite) -> None:
        dest = self.prefix_form.format(container="no-such-container", endpoint=azurite.blob_endpoint) + "/x/"
        with pytest.raises(BucketNotFoundError) as e:
            storage.put(b"x", dest)
        assert isinstance(e.value, FileNotFoundError)
        text = str(e.value)
        assert "'no-such-container'" in text and azurite.blob_endpoint in text and "create it" in text
        # adlfs answers for the container itself with its own FileNotFoundError naming it.
        with pytest.raises(BucketNotFoundError, match="'no-such-container' does not exist"):
            storage.info(dest.removesuffix("/x/"))

    def test_location_form(self, storage: Storage, dest: str, azurite: Azurite) -> None:
        loc = storage.location(dest)
        assert loc.kind == "azure" and loc.account == "devstoreaccount1"
        assert loc.endpoint_url == azurite.blob_endpoint


class TestAzure(AzureBase):
    prefix_form = "az://{container}"


class TestAzureBlobEndpointForm(AzureBase):
    prefix_form = "{endpoint}/{container}"


class TestAbfs(AzureBase):
    prefix_form = "abfs://{container}"


# -- credentials -----------------------------------------------------------------------


def test_wrong_account_key_is_access_denied_and_never_shown(
    azurite: Azurite, monkeypatch: pytest.MonkeyPatch
) -> None:
    container = new_container(azurite)
    storage = use_connection_string(azurite.connection_string.replace(azurite.account_key, WRONG_KEY), monkeypatch)
    with pytest.raises(AccessDeniedError) as e:
        storage.put(b"x", f"az://{container}/media/")
    assert isinstance(e.value, PermissionError)
    for text in (str(e.value), repr(e.value)):
        assert WRONG_KEY not in text and azurite.account_key not in text
        assert "AccountKey" not in text
    assert f"az://{container}/media" in str(e.value) and azurite.blob_endpoint in str(e.value)
    with pytest.raises(AccessDeniedError):
        storage.exists(f"az://{container}/media/anything.jpg")


def test_credentials_from_the_connection_string(azurite: Azurite, monkeypatch: pytest.MonkeyPatch) -> None:
    container = new_container(azurite)
    storage = use_connection_string(azurite.connection_string, monkeypatch)
    uri = storage.put(b"from the connection string", f"az://{container}/x/")
    assert fetch(storage.url(uri)) == b"from the connection string"
    assert storage.location(f"az://{container}/x").endpoint_url == azurite.blob_endpoint


def test_credentials_from_account_name_and_key_variables(
    azurite: Azurite, monkeypatch: pytest.MonkeyPatch
) -> None:
    container = new_container(azurite)
    writer = use_connection_string(azurite.connection_string, monkeypatch)
    uri = writer.put(b"signed with the variables' key", f"az://{container}/x/")
    key = uri.split(f"az://{container}/", 1)[1]
    monkeypatch.delenv("AZURE_STORAGE_CONNECTION_STRING")
    monkeypatch.setenv("AZURE_STORAGE_ACCOUNT_NAME", azurite.account_name)
    monkeypatch.setenv("AZURE_STORAGE_ACCOUNT_KEY", azurite.account_key)
    storage = Session.reset_default().storage
    loc = storage.location(f"az://{container}/{key}")
    assert loc.account == azurite.account_name and loc.endpoint_url == PUBLIC_ACCOUNT_URL
    assert fetch(on_azurite(storage.url(loc), azurite)) == b"signed with the variables' key"
    monkeypatch.setenv("AZURE_STORAGE_ACCOUNT_KEY", WRONG_KEY)
    url = Session.reset_default().storage.url(f"az://{container}/{key}")
    assert http_get(on_azurite(url, azurite))[0] == 403


def test_credentials_from_config_toml(
    azurite: Azurite, monkeypatch: pytest.MonkeyPatch, _isolated_env: Path
) -> None:
    container = new_container(azurite)
    uri = use_connection_string(azurite.connection_string, monkeypatch).put(b"toml", f"az://{container}/x/")
    key = uri.split(f"az://{container}/", 1)[1]
    monkeypatch.delenv("AZURE_STORAGE_CONNECTION_STRING")
    config = _isolated_env / "config.toml"
    config.write_text(
        f'[azure]\naccount_name = "{azurite.account_name}"\naccount_key = "{azurite.account_key}"\n'
    )
    storage = Session.reset_default().storage
    assert fetch(on_azurite(storage.url(f"az://{container}/{key}"), azurite)) == b"toml"
    # A connection string in [azure] reaches Azurite itself.
    config.write_text(f'[azure]\nconnection_string = "{azurite.connection_string}"\n')
    storage = Session.reset_default().storage
    second = storage.put(b"toml connection string", f"az://{container}/y/")
    assert storage.cat(second) == b"toml connection string"
    assert fetch(storage.url(second)) == b"toml connection string"


def test_another_account_is_accessed_anonymously(azurite: Azurite, monkeypatch: pytest.MonkeyPatch) -> None:
    storage = use_connection_string(azurite.connection_string, monkeypatch)
    loc = storage.location("https://otheraccount.blob.core.windows.net/public/a/b.jpg")
    assert loc.account == "otheraccount"
    fs = storage.filesystem(loc)
    assert "otheraccount" in repr(fs) and "anonymous" in repr(fs)
    assert storage.filesystem(storage.location("az://c/x")) is not fs
    # No key for that account: the plain URL (works for a public container), no signature.
    assert storage.url(loc) == "https://otheraccount.blob.core.windows.net/public/a/b.jpg"


def test_no_account_configured_says_what_to_set() -> None:
    storage = Session.reset_default().storage
    with pytest.raises(ConfigError, match="AZURE_STORAGE_CONNECTION_STRING"):
        storage.put(b"x", "az://container/x/")


def test_no_secret_in_reprs_and_errors(azurite: Azurite, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PXFS_AZURE_ACCOUNT_KEY", azurite.account_key)
    storage = use_connection_string(azurite.connection_string, monkeypatch)
    env = Env.get()
    loc = storage.location("az://no-such-container/x/")
    fs = storage.filesystem(loc)
    texts = [repr(env), str(env.describe()), repr(storage), repr(storage.config), repr(loc), repr(fs), str(fs)]
    for uri in ("az://no-such-container/x/", f"{azurite.blob_endpoint}/no-such-container/x/"):
        with pytest.raises(FileNotFoundError) as e:
            storage.put(b"x", uri)
        texts += [str(e.value), repr(e.value)]
    for text in texts:
        assert azurite.account_key not in text, text
        assert "AccountKey=" not in text, text


# -- URL scope: never more than the one blob -------------------------------------------


def container_sas(azurite: Azurite, container: str) -> str:
    """A SAS token for a whole container (read, list, write, create), as users configure one."""
    from azure.storage.blob import ContainerSasPermissions, generate_container_sas

    return str(generate_container_sas(
        azurite.account_name, container, account_key=azurite.account_key,
        permission=ContainerSasPermissions(read=True, list=True, write=True, create=True),
        expiry=datetime.now(timezone.utc) + timedelta(hours=1),
    ))


def with_query(url: str, query: str) -> str:
    return f"{url}?{query}"


def http_put(url: str, data: bytes) -> int:
    """Status of a plain PUT of a block blob (what a URL holder could try)."""
    request = urllib.request.Request(url, data=data, method="PUT", headers={"x-ms-blob-type": "BlockBlob"})
    try:
        with urllib.request.urlopen(request, timeout=30) as r:
            return int(r.status)
    except urllib.error.HTTPError as e:
        with e:
            return int(e.code)


@pytest.fixture
def two_blobs(azurite: Azurite, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str, str]:
    """(container, uri of blob a, uri of blob b), written with the key."""
    container = new_container(azurite)
    storage = use_connection_string(azurite.connection_string, monkeypatch)
    a = storage.put(b"blob a", f"az://{container}/media/")
    b = storage.put(b"blob b", f"az://{container}/other/")
    return container, a, b


def sas_only(how: str, sas: str, azurite: Azurite, monkeypatch: pytest.MonkeyPatch, home: Path) -> Storage:
    """A configuration with a SAS token and no account key, set the way `how` says."""
    monkeypatch.delenv("AZURE_STORAGE_CONNECTION_STRING", raising=False)
    if how == "connection string":
        conn = f"BlobEndpoint={azurite.blob_endpoint};SharedAccessSignature={sas}"
        monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", conn)
        monkeypatch.setenv("AZURE_STORAGE_ACCOUNT_NAME", azurite.account_name)
    elif how == "variables":
        conn = f"BlobEndpoint={azurite.blob_endpoint}"
        monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", conn)
        monkeypatch.setenv("AZURE_STORAGE_SAS_TOKEN", sas)
    else:
        (home / "config.toml").write_text(
            f'[azure]\nconnection_string = "BlobEndpoint={azurite.blob_endpoint}"\nsas_token = "{sas}"\n'
        )
    return Session.reset_default().storage


@pytest.mark.parametrize("how", ["connection string", "variables", "config.toml"])
def test_url_with_only_a_sas_token_is_refused(
    how: str, azurite: Azurite, two_blobs: tuple[str, str, str], monkeypatch: pytest.MonkeyPatch, _isolated_env: Path
) -> None:
    container, a, _ = two_blobs
    sas = container_sas(azurite, container)
    storage = sas_only(how, sas, azurite, monkeypatch, _isolated_env)
    assert storage.cat(a) == b"blob a"  # reading with the token works
    with pytest.raises(AccessDeniedError) as e:
        storage.url(a)
    assert isinstance(e.value, PermissionError)
    text = str(e.value)
    assert a in text and "azure_url_share_sas_token" in text and "account key" in text
    assert "[pxfs.public_urls]" in text
    sig = parse_qs(sas)["sig"][0]
    for shown in (text, repr(e.value)):
        assert sas not in shown and sig not in shown and quote(sig, safe="") not in shown
    with pytest.raises(AccessDeniedError):
        storage.urls([a])


def test_a_public_base_needs_no_token(
    azurite: Azurite, two_blobs: tuple[str, str, str], monkeypatch: pytest.MonkeyPatch, _isolated_env: Path
) -> None:
    container, a, _ = two_blobs
    sas_only("variables", container_sas(azurite, container), azurite, monkeypatch, _isolated_env)
    storage = Session.reset_default({"public_urls": {f"az://{container}/media/": "https://cdn.example.com/m/"}}).storage
    assert storage.url(a) == "https://cdn.example.com/m/" + a.rsplit("/", 1)[1]


def test_url_shares_the_token_only_when_opted_in(
    azurite: Azurite, two_blobs: tuple[str, str, str], monkeypatch: pytest.MonkeyPatch, _isolated_env: Path
) -> None:
    container, a, _ = two_blobs
    sas = container_sas(azurite, container)
    monkeypatch.setenv("PXFS_AZURE_URL_SHARE_SAS_TOKEN", "true")
    storage = sas_only("connection string", sas, azurite, monkeypatch, _isolated_env)
    url = storage.url(a)
    blob_url = f"{azurite.blob_endpoint}/{container}/{a.split(f'az://{container}/', 1)[1]}"
    assert url == with_query(blob_url, sas)
    assert http_get(url)[:2] == (200, b"blob a")
    # What the user opted in to: the token lists the container too.
    listing = f"{azurite.blob_endpoint}/{container}?restype=container&comp=list&{sas}"
    assert http_get(listing)[0] == 200


def test_key_signed_url_reads_its_blob_and_nothing_else(
    azurite: Azurite, two_blobs: tuple[str, str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    container, a, b = two_blobs
    # A key wins over a configured token, even with the opt-in.
    sas = container_sas(azurite, container)
    monkeypatch.setenv("PXFS_AZURE_URL_SHARE_SAS_TOKEN", "true")
    monkeypatch.setenv("AZURE_STORAGE_SAS_TOKEN", sas)
    storage = use_connection_string(azurite.connection_string, monkeypatch)
    url = storage.url(a, expires_in=300)
    query = urlsplit(url).query
    params = parse_qs(query)
    assert params["sp"] == ["r"] and params["sr"] == ["b"] and sas not in url
    assert http_get(url)[:2] == (200, b"blob a")
    container_url = f"{azurite.blob_endpoint}/{container}"
    other = f"{container_url}/{b.split(f'az://{container}/', 1)[1]}"
    assert http_get(with_query(other, query))[0] == 403  # another blob
    assert http_get(f"{container_url}?restype=container&comp=list&{query}")[0] == 403  # listing
    assert http_put(url, b"overwritten") == 403  # writing this blob
    assert http_put(with_query(f"{container_url}/new.bin", query), b"new") == 403  # a new blob
    assert http_get(url)[:2] == (200, b"blob a")
    # The same checks pass with the container token, so they would catch a broad URL.
    assert http_get(with_query(other, sas))[:2] == (200, b"blob b")


# -- bounded time ----------------------------------------------------------------------


def dead_endpoint_storage(endpoint: str, azurite: Azurite, monkeypatch: pytest.MonkeyPatch) -> Storage:
    monkeypatch.setenv("PXFS_REQUEST_TIMEOUT", "1")
    monkeypatch.setenv("PXFS_RETRIES", "0")
    conn = azurite.connection_string.replace(azurite.blob_endpoint, f"{endpoint}/{azurite.account_name}")
    return use_connection_string(conn, monkeypatch)


def test_silent_endpoint_times_out_quickly(azurite: Azurite, monkeypatch: pytest.MonkeyPatch) -> None:
    with SilentServer() as silent:
        storage = dead_endpoint_storage(silent.endpoint_url, azurite, monkeypatch)
        for attempt in (
            lambda: storage.put(b"x", "az://media/x/"),
            lambda: storage.exists("az://media/x/a.jpg"),
            lambda: storage.cat("az://media/x/b.jpg"),
        ):
            start = time.monotonic()
            with pytest.raises(EndpointTimeoutError) as e:
                attempt()
            assert time.monotonic() - start < 6
            assert isinstance(e.value, TimeoutError) and silent.endpoint_url in str(e.value)
            assert azurite.account_key not in str(e.value)


def test_one_retry_and_no_more(azurite: Azurite, monkeypatch: pytest.MonkeyPatch) -> None:
    with SilentServer() as silent:
        storage = dead_endpoint_storage(silent.endpoint_url, azurite, monkeypatch)
        monkeypatch.setenv("PXFS_RETRIES", "1")
        storage = Session.reset_default().storage
        start = time.monotonic()
        with pytest.raises(EndpointTimeoutError):
            storage.cat("az://media/x/b.jpg")
        # Two 1 s attempts and one backoff of about 2 s (adlfs's defaults: about 80 s).
        assert 2 <= time.monotonic() - start < 8
        assert silent.connections == 2


def test_refused_connection_is_unreachable(azurite: Azurite, monkeypatch: pytest.MonkeyPatch) -> None:
    with SilentServer() as closed:
        endpoint = closed.endpoint_url  # a port that was listening a moment ago, closed now
    storage = dead_endpoint_storage(endpoint, azurite, monkeypatch)
    start = time.monotonic()
    with pytest.raises(EndpointUnreachableError) as e:
        storage.put(b"x", "az://media/x/")
    assert time.monotonic() - start < 6
    assert isinstance(e.value, ConnectionError) and endpoint in str(e.value)


def test_malformed_connection_string_is_a_config_error_that_hides_it(monkeypatch: pytest.MonkeyPatch) -> None:
    conn = "DefaultEndpointsProtocol=https;AccountKey=c2VjcmV0LXNlY3JldC1zZWNyZXQ=;NotAField"
    storage = use_connection_string(conn, monkeypatch)
    with pytest.raises(ConfigError) as e:
        storage.put(b"x", "az://container/x/")
    assert "c2VjcmV0LXNlY3JldC1zZWNyZXQ=" not in str(e.value) and "AZURE_STORAGE_CONNECTION_STRING" in str(e.value)


def test_write_only_credentials_can_add_a_computed_column(
    azurite: Azurite, two_blobs: tuple[str, str, str], monkeypatch: pytest.MonkeyPatch, _isolated_env: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A SAS that may write but not delete (as the guide's S3 policy: PutObject, no
    DeleteObject) is a writable destination: the probe stays, once, and a warning names it."""
    container, _, _ = two_blobs
    storage = sas_only("variables", container_sas(azurite, container), azurite, monkeypatch, _isolated_env)
    dest = f"az://{container}/out/"
    for _ in range(2):
        assert storage.check_writable(dest).uri == dest.rstrip("/")
    assert [o.uri for o in storage.list_objects(dest)] == [f"{dest}.pxfs-probe"]
    assert f"{dest}.pxfs-probe stays" in caplog.text
    assert storage.put(b"written", dest).startswith(dest)


def test_uploads_with_the_account_key_go_through_obstore(
    azurite: Azurite, monkeypatch: pytest.MonkeyPatch, two_blobs: tuple[str, str, str], _isolated_env: Path,
) -> None:
    """With the account's key, put_many sends Put Blob by obstore (adlfs is not even built);
    with only a SAS token, adlfs does it. Same blobs, bytes and content types either way."""
    from pxfs.storage._azstore import ObstoreAzure

    container, _, _ = two_blobs
    storage = use_connection_string(azurite.connection_string, monkeypatch)
    dest = f"az://{container}/fast/"
    data = [b"\xff\xd8\xff" + uuid.uuid4().bytes * 40 for _ in range(20)]
    stored = storage.put_many(data, dest, names=[f"{i}.jpg" for i in range(20)])
    assert isinstance(getattr(storage._writer(storage.location(dest)), "fast", None), ObstoreAzure)
    assert not storage._filesystems  # adlfs was never needed
    status, body, ctype = http_get(storage.url(stored[7].uri))
    assert (status, body, ctype) == (200, data[7], "image/jpeg")
    sas = sas_only("variables", container_sas(azurite, container), azurite, monkeypatch, _isolated_env)
    slow = sas.put_many(data[:3], f"az://{container}/slow/", names=["a.jpg", "b.jpg", "c.jpg"])
    assert not isinstance(getattr(sas._writer(sas.location(dest)), "fast", None), ObstoreAzure)
    assert [sas.cat(s.uri) for s in slow] == data[:3]
