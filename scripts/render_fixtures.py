"""Render gold files (contract JSON) into real .docx/.xlsx/.pdf/.md/one-line .txt files.

usage: python scripts/render_fixtures.py GOLD.json [GOLD.json ...] -o OUTDIR [--formats docx,xlsx,pdf]
The same renderer (evalkit/fixtures.py) is what the tests and `extractor eval` use.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from evalkit.fixtures import RENDERERS, render_all  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description="把标准答案渲染为 Word/Excel/PDF 等真实文件")
    ap.add_argument("gold", nargs="+", type=Path)
    ap.add_argument("-o", "--out", type=Path, required=True)
    ap.add_argument("--formats", default="docx,xlsx,pdf", help=f"可选：{','.join(RENDERERS)}")
    args = ap.parse_args()
    fmts = tuple(f for f in args.formats.split(",") if f)
    for g in args.gold:
        gold = json.loads(g.read_text(encoding="utf-8"))
        made = render_all(gold, args.out, fmts, stem=g.name.removesuffix(".gold.json"))
        for fmt, p in made.items():
            print(f"{g.name} → {p}")


if __name__ == "__main__":
    main()
