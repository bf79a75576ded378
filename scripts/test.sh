#!/usr/bin/env bash
# Set everything up, then run the whole test suite (extra arguments go to pytest).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/setup_browser.sh
set +e
.venv/bin/python -m pytest "$@"
rc=$?
set -e
if [ "$rc" -eq 5 ]; then
  echo "pytest：所选范围内没有测试（exit 5），按未通过处理。" >&2
  exit 1
fi
exit "$rc"
