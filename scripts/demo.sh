#!/usr/bin/env bash
# The main job: install pxfs (idempotent) and run the blob-storage guide end to end
# against a local S3 server it starts itself (python -m pxfs.demo).
#   bash scripts/demo.sh                 # moto_server as the S3 endpoint
#   bash scripts/demo.sh --local         # local folders only
#   bash scripts/demo.sh --s3-endpoint http://127.0.0.1:9000 --bucket mybucket   # e.g. MinIO
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/venv.sh demo
exec "$PY" -m pxfs.demo "$@"
