"""How reading time grows with the size of one file: a real glued one-line form (every cell run
together, the hardest stream) and a seed tab dump, each repeated 100, 500 and 1,000 times in a
single file. Prints seconds and forms per second for each size; the figures should stay flat (a
reader whose cost grows with the square of the file would show it here)."""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SOURCES = {
    "glued": ROOT / "eval_sets" / "real" / "021_hubei_gongcheng_xueyuan_xueshengzizhu.txt",
    "tabs": ROOT / "samples" / "000_6226a1c3cfbc3ef3.txt",
}


def main() -> None:
    from extractor.pipeline.process import process_file

    print(f"{'输入':8s}{'重复次数':>8s}{'字符数':>12s}{'自评表数':>10s}{'用时(秒)':>10s}{'表/秒':>10s}")
    with tempfile.TemporaryDirectory() as d:
        for kind, src in SOURCES.items():
            text = src.read_text(encoding="utf-8").strip() + ("" if kind == "glued" else "\n\n")
            for n in (100, 500, 1000):
                p = Path(d) / f"{kind}_{n}.txt"
                p.write_text(text * n, encoding="utf-8")
                t0 = time.perf_counter()
                res = process_file(p)
                dt = time.perf_counter() - t0
                forms = len(res.forms)
                print(f"{kind:8s}{n:>8d}{len(text) * n:>12d}{forms:>10d}{dt:>10.2f}{forms / dt:>10.1f}")


if __name__ == "__main__":
    main()
