"""The reader child used by the reader and stalled-endpoint tests.

It opens the table, then loops until the stop file exists: ``t.count()`` and (with
``select``) ``t.select(n=t.n, uri=t.rot.fileurl).limit(5).collect()``, timing every call.
Each URI it reads is checked at once, from outside pxfs (boto3 or the local filesystem):
an object must exist for every recorded cell. It reports one ``result`` event.
"""

READER = """
import pxfs as pxt
from urllib.parse import unquote

client = None
if ARG.get("endpoint"):
    import boto3
    client = boto3.client("s3", endpoint_url=ARG["endpoint"], aws_access_key_id="testing",
                          aws_secret_access_key="testing", region_name="us-east-1")

def object_size(uri):
    if uri.startswith("file://") or uri.startswith("/"):
        path = unquote(uri[len("file://"):]) if uri.startswith("file://") else uri
        return os.path.getsize(path) if os.path.isfile(path) else None
    if client is not None and uri.startswith("s3://"):
        bucket, _, key = uri[len("s3://"):].partition("/")
        try:
            return client.head_object(Bucket=bucket, Key=key)["ContentLength"]
        except Exception:
            return None
    return -1  # cannot check from here

latency = {"open": 0.0, "count": 0.0, "select": 0.0}
def timed(kind, fn):
    t0 = time.monotonic()
    try:
        return fn()
    finally:
        latency[kind] = max(latency[kind], time.monotonic() - t0)

errors, counts, seen, missing = [], set(), {}, []
iterations = 0
t = timed("open", lambda: pxt.get_table(ARG["table"]))
say("ready")
while not os.path.exists(ARG["go"]):
    time.sleep(0.002)
while not os.path.exists(ARG["stop"]):
    try:
        counts.add(timed("count", t.count))
        if ARG.get("select"):
            rs = timed("select", lambda: t.select(n=t.n, uri=t.rot.fileurl).limit(5).collect())
            for row in rs:
                uri = row["uri"]
                if uri is None:
                    continue
                size = object_size(uri)
                if size is None:
                    missing.append([row["n"], uri])
                seen.setdefault(str(row["n"]), [])
                if uri not in seen[str(row["n"])]:
                    seen[str(row["n"])].append(uri)
    except Exception as e:
        errors.append(error_of(e))
    iterations += 1
    time.sleep(0.01)
say("result", latency=latency, errors=errors[:10], n_errors=len(errors), counts=sorted(counts),
    seen=seen, missing=missing, iterations=iterations)
"""
