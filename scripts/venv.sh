# Sourced by the other scripts: create .venv if missing and install pxfs with the extras
# given as $1 (idempotent). Sets PY to the venv's python.
PY=.venv/bin/python
if [ ! -x "$PY" ]; then
    echo "==> creating .venv"
    python3 -m venv .venv
fi
echo "==> installing pxfs[$1]"
"$PY" -m pip install -q --disable-pip-version-check --upgrade pip
"$PY" -m pip install -q --disable-pip-version-check -c constraints.txt -e ".[$1]"
