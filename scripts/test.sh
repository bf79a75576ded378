#!/usr/bin/env bash
# Set everything up, then run the whole test suite (extra arguments go to pytest).
set -euo pipefail
cd "$(dirname "$0")/.."
EXTRAS=test,cluster bash scripts/setup.sh
bash scripts/setup_browser.sh
echo "检查代码规范（ruff）与分层约定（import-linter）……" >&2
.venv/bin/ruff check --quiet .
.venv/bin/lint-imports --no-cache > .venv/lint-imports.log 2>&1 || { cat .venv/lint-imports.log >&2; echo "分层约定被破坏（见上方 BROKEN 的约定）。" >&2; exit 1; }
set +e
.venv/bin/python -m pytest "$@"
rc=$?
set -e
if [ "$rc" -eq 5 ]; then
  echo "pytest：所选范围内没有测试（exit 5），按未通过处理。" >&2
  exit 1
fi
exit "$rc"
