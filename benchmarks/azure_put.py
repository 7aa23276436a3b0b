"""Azure uploads: pxfs's put_many (obstore with the account key) beside raw adlfs and raw
obstore, against Azurite started here (or any account given by a connection string).

    .venv/bin/python -m benchmarks.azure_put --n 1000 --size 25KB --repeat 3

Reports blobs/s and client CPU per blob (this process), medians of the repeats, and the
ratio of pxfs to the faster raw client. Each run writes its own prefix and removes it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
import uuid
from typing import Any, Callable

from .put_throughput import parse_size

__all__ = ["main"]


def _timed(fn: Callable[[], Any], n: int) -> tuple[float, float]:
    """(blobs/s, client CPU ms per blob) of one call of `fn` storing `n` blobs."""
    c0, t0 = time.process_time(), time.perf_counter()
    fn()
    return n / (time.perf_counter() - t0), (time.process_time() - c0) * 1000 / n


def run(conn: str, container: str, n: int, size: int, concurrency: int, repeat: int) -> dict[str, list[tuple[float, float]]]:
    import obstore
    from adlfs import AzureBlobFileSystem
    from azure.storage.blob import BlobServiceClient
    from obstore.store import AzureStore

    from pxfs.session import Session

    service = BlobServiceClient.from_connection_string(conn)
    key = service.credential.account_key
    account = service.account_name
    data = [os.urandom(size) for _ in range(n)]
    results: dict[str, list[tuple[float, float]]] = {"adlfs": [], "obstore": [], "pxfs": []}
    for r in range(repeat):
        prefix = f"bench-{uuid.uuid4().hex[:8]}"

        def with_adlfs() -> None:
            fs = AzureBlobFileSystem(connection_string=conn, skip_instance_cache=True)
            fs.pipe({f"{container}/{prefix}/adlfs/{i}": d for i, d in enumerate(data)}, batch_size=concurrency)

        def with_obstore() -> None:
            store = AzureStore(container, config={"account_name": account, "account_key": key,
                                                  "endpoint": service.url.rstrip("/")},
                               client_options={"allow_http": True})

            async def all_puts() -> None:
                gate = asyncio.Semaphore(concurrency)

                async def one(i: int) -> None:
                    async with gate:
                        await obstore.put_async(store, f"{prefix}/obstore/{i}", data[i])
                await asyncio.gather(*(one(i) for i in range(n)))
            asyncio.run(all_puts())

        def with_pxfs() -> None:
            os.environ["AZURE_STORAGE_CONNECTION_STRING"] = conn
            storage = Session.reset_default().storage  # built inside the timer, as the raw clients are
            storage.put_many(data, f"az://{container}/{prefix}/pxfs/", concurrency=concurrency)

        order = [("adlfs", with_adlfs), ("obstore", with_obstore), ("pxfs", with_pxfs)]
        for name, fn in (order if r % 2 == 0 else order[::-1]):
            results[name].append(_timed(fn, n))
        client = service.get_container_client(container)
        names = [b.name for b in client.list_blobs(name_starts_with=prefix)]
        for start in range(0, len(names), 256):  # a batch holds at most 256 deletes
            client.delete_blobs(*names[start:start + 256])
    return results


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--size", default="25KB")
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--connection-string", help="an account's connection string (default: Azurite started here)")
    ap.add_argument("--container", default="bench")
    args = ap.parse_args(argv)
    size = parse_size(args.size)
    if args.connection_string:
        results = run(args.connection_string, args.container, args.n, size, args.concurrency, args.repeat)
    else:
        from pxfs.testing import Azurite

        with Azurite() as azurite:
            azurite.create_container(args.container)
            results = run(azurite.connection_string, args.container, args.n, size, args.concurrency, args.repeat)
    med = {k: (statistics.median(r for r, _ in v), statistics.median(c for _, c in v)) for k, v in results.items()}
    print(f"{args.n} blobs of {args.size}, {args.concurrency} in flight, median of {args.repeat}")
    print("| client | blobs/s | client CPU ms per blob |\n|---|---:|---:|")
    for name, (rate, cpu) in med.items():
        print(f"| {name} | {rate:,.0f} | {cpu:.2f} |")
    ceiling = max(med["adlfs"][0], med["obstore"][0])
    print(f"pxfs / faster raw client: {med['pxfs'][0] / ceiling:.2f}x")


if __name__ == "__main__":
    main()
