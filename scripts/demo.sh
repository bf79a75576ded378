#!/usr/bin/env bash
# Set everything up, then extract every bundled sample report (text, PDF, Word, Excel) into out/samples/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/extractor review samples -o out/samples "$@"
echo
echo "在标准答案上评测（原始输入）："
.venv/bin/extractor eval --formats orig | tail -n 1
