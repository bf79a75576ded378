"""Benchmark: seconds per scanned page and peak memory, serial and with parallel page workers.

Renders the seed forms of one gold file into a degraded image-only PDF (the scanned eval set's
renderer), replicates its pages up to ``--pages`` (default 100), then extracts it in a fresh process
with the OCR cache off, once per worker count. Peak memory is the largest resident set of the main
process and of any one worker (ru_maxrss), and their sum as an upper bound for the whole run.

usage: python benchmarks/bench_ocr.py [--pages 100] [--workers 1,2]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CHILD = r"""
import json, os, resource, sys, time
from pathlib import Path
from extractor.pipeline.process import process_file

def main():
    t = time.perf_counter()
    res = process_file(Path(sys.argv[1]))
    dt = time.perf_counter() - t
    from extractor.ocr.pages import close_pool
    close_pool()  # the shared page workers live on until asked: reap them, so their peak is counted
    me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(json.dumps({"status": res.status, "forms": len(res.forms), "seconds": dt,
                      "rss_main_mb": me, "rss_worker_mb": kids}))

if __name__ == "__main__":
    main()
"""


def build(pages: int, work: Path) -> Path:
    import pymupdf

    from evalkit.fixtures import render_scan

    gold = json.loads(next((ROOT / "eval_sets" / "seeds").glob("001_*.gold.json")).read_text(encoding="utf-8"))
    one = work / "one.pdf"
    render_scan(gold["forms"], one)
    out = pymupdf.open()
    with pymupdf.open(str(one)) as src:
        while out.page_count < pages:
            out.insert_pdf(src, to_page=min(src.page_count, pages - out.page_count) - 1)
    path = work / f"scan_{pages}p.pdf"
    out.save(str(path), deflate=True)
    out.close()
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=100)
    ap.add_argument("--workers", default=f"1,{os.cpu_count() or 1}")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        pdf = build(args.pages, work)
        script = work / "child.py"
        script.write_text(CHILD, encoding="utf-8")
        print(f"扫描件基准：{args.pages} 页（退化扫描，150–200 dpi），CPU 核数 {os.cpu_count()}")
        for w in dict.fromkeys(int(x) for x in args.workers.split(",")):
            env = dict(os.environ, EXTRACTOR_OCR_WORKERS=str(w), EXTRACTOR_OCR_CACHE="off",
                       PYTHONPATH=str(ROOT))
            out = subprocess.run([sys.executable, str(script), str(pdf)], env=env, capture_output=True,
                                 text=True, check=True)
            r = json.loads(out.stdout.strip().splitlines()[-1])
            print(f"workers={w}: {r['seconds'] / args.pages:.2f} 秒/页，共 {r['seconds']:.0f} 秒，"
                  f"表单 {r['forms']}，主进程峰值内存 {r['rss_main_mb']:.0f} MB，"
                  f"单个工作进程峰值 {r['rss_worker_mb']:.0f} MB"
                  f"（合计上限 {r['rss_main_mb'] + (r['rss_worker_mb'] * w if w > 1 else 0):.0f} MB）")


if __name__ == "__main__":
    main()
