#!/usr/bin/env bash
# Create .venv and install the project with pinned dependencies (idempotent).
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
if ! "$PY" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)'; then
  echo "需要 Python 3.11 或更高版本（当前：$("$PY" --version 2>&1)）" >&2
  exit 2
fi
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
# EXTRAS: the optional parts to install (the test command adds "cluster": Ray, for the local Ray tests)
extras="${EXTRAS:-test}"
stamp=.venv/.installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || [ requirements.lock -nt "$stamp" ] \
   || ! grep -qx "$extras" "$stamp" 2>/dev/null; then
  echo "正在安装依赖（首次运行需要一两分钟）……" >&2
  if ! .venv/bin/python -m pip install --quiet -c requirements.lock -e ".[$extras]" > .venv/install.log 2>&1; then
    cat .venv/install.log >&2
    echo "依赖安装失败，详见上方输出（.venv/install.log）。" >&2
    exit 1
  fi
  echo "$extras" > "$stamp"
fi
