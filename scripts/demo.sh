#!/usr/bin/env bash
# Set everything up, then extract every bundled sample report (text, PDF, Word, Excel, a scanned PDF) into out/samples/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/extractor review samples -o out/samples "$@"
.venv/bin/extractor draft out/samples -o out/samples/问题与建议草稿.md
.venv/bin/extractor draft out/samples -o out/samples/问题与建议草稿.docx
echo
echo "在标准答案上评测（原始输入；real 为各地真实公开文件）："
.venv/bin/extractor eval --formats orig | sed -n '/按评测集汇总/,/按文件形式汇总/p' | grep -v '——'
