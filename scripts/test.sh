#!/usr/bin/env bash
# Install everything the tests need (idempotent) and run pytest.
#   bash scripts/test.sh                  # the whole suite
#   bash scripts/test.sh tests/test_x.py -k name -x
# Arguments go to pytest unchanged. Needs python3 (3.11+), node 20 and npm on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."

AZURITE_VERSION=3.35.0
S3RVER_VERSION=3.7.1  # a second S3 implementation (tests/backends/test_s3rver.py)

# Creates .venv if missing and installs pxfs[test] pinned by constraints.txt (no resolver
# backtracking: boto3 must match the botocore that aiobotocore allows). Sets PY.
source scripts/venv.sh test

if [ ! -x .tools/node_modules/.bin/azurite-blob ]; then
    echo "==> installing Azurite $AZURITE_VERSION into .tools/"
    if ! command -v npm >/dev/null 2>&1; then
        echo "error: npm not found; install Node.js 20 and npm (Debian: apt-get install nodejs npm)" >&2
        exit 1
    fi
    npm install --silent --no-audit --no-fund --prefix .tools "azurite@$AZURITE_VERSION"
fi

if [ ! -x .tools/node_modules/.bin/s3rver ]; then
    echo "==> installing s3rver $S3RVER_VERSION into .tools/"
    npm install --silent --no-audit --no-fund --prefix .tools "s3rver@$S3RVER_VERSION"
fi

# Browser tests (tests/test_gallery.py) drive Debian's chromium through Playwright.
if [ ! -x /usr/bin/chromium ]; then
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "==> installing chromium (apt-get) for the browser tests"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    else
        echo "warning: /usr/bin/chromium is missing and this is not root: skipping the apt-get step;" \
             "install it (sudo apt-get install chromium) or tests/test_gallery.py fails" >&2
    fi
fi

echo "==> storage library versions (s3fs, gcsfs and adlfs must share one fsspec release)"
"$PY" -m pip list --disable-pip-version-check 2>/dev/null | grep -iE '^(fsspec|s3fs|gcsfs|adlfs|obstore) ' || true

echo "==> pytest $*"
set +e
"$PY" -m pytest "$@"
code=$?
set -e
if [ "$code" -eq 5 ]; then
    echo "error: pytest collected no tests" >&2
    exit 1
fi
exit "$code"
