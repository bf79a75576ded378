#!/usr/bin/env bash
# Debian's chromium and a CJK font for the end-to-end browser test (needs root; Playwright never
# downloads a browser of its own). Idempotent.
set -euo pipefail
if [ -x /usr/bin/chromium ] && fc-list 2>/dev/null | grep -qi "wenquanyi\|noto sans cjk"; then
  exit 0
fi
if [ "$(id -u)" != "0" ]; then
  echo "提示：未安装 chromium 或中文字体，且当前不是 root，端到端浏览器测试将被跳过（apt-get install chromium fonts-wqy-microhei）。" >&2
  exit 0
fi
echo "正在安装 chromium 和中文字体（端到端测试用）……" >&2
apt-get update -q > /dev/null
DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium fonts-wqy-microhei > /dev/null
