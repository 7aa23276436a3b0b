#!/usr/bin/env bash
# The benchmark suite (docs/benchmarks.md): install pxfs[bench] into .venv (idempotent),
# then run `python -m benchmarks` with the arguments given.
#   bash scripts/bench.sh                                   # quick: N=200, moto_server started here
#   bash scripts/bench.sh --n 1000,10000 --peers pixeltable,daft
#   bash scripts/bench.sh --s3-endpoint http://127.0.0.1:9000 --bucket bench   # e.g. MinIO
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/venv.sh bench
exec "$PY" -m benchmarks "$@"
