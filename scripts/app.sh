#!/usr/bin/env bash
# Set everything up and open the review app (http://127.0.0.1:8501) on the bundled samples.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/streamlit run review_app.py --server.address "${EXTRACTOR_ADDRESS:-127.0.0.1}" "$@"
