"""Benchmark: forms per second and peak memory for text, PDF, Word and Excel inputs, on one core.

Builds a batch of at least 500 forms per input type by replicating the bundled seeds (text) and
their renderings (PDF, Word, Excel), then extracts each batch in a fresh process pinned to one
CPU, timing ingest + parse + contract export. Prints one line per input type.

usage: python benchmarks/bench_extract.py [--forms 500] [--types txt,pdf,docx,xlsx]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _prepare(kind: str, min_forms: int, work: Path) -> tuple[list[Path], int]:
    """Copies of the seed inputs (or renderings) until the batch holds at least min_forms forms."""
    from evalkit.fixtures import render_all

    golds = sorted((ROOT / "eval_sets" / "seeds").glob("*.gold.json"))
    units: list[tuple[Path, int]] = []
    for g in golds:
        gold = json.loads(g.read_text(encoding="utf-8"))
        n = len(gold["forms"])
        if kind == "txt":
            units.append((ROOT / "samples" / gold["source"], n))
        else:
            stem = g.name.removesuffix(".gold.json")
            units.append((render_all(gold, work / "src", (kind,), stem=stem)[kind], n))
    files: list[Path] = []
    total = 0
    k = 0
    while total < min_forms:
        for src, n in units:
            dst = work / "batch" / f"{k:04d}_{src.name}"
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dst)
            files.append(dst)
            total += n
            k += 1
    return files, total


def _child(kind: str, listing: str) -> None:
    """Run in a fresh process: extract every listed file, print JSON figures."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    from extractor.pipeline.process import process_file
    from extractor.store.contract import result_to_contract

    files = [Path(p) for p in Path(listing).read_text(encoding="utf-8").splitlines()]
    t0 = time.perf_counter()
    forms = 0
    for f in files:
        res = process_file(f)
        assert res.status == "ok", res.error
        forms += len(result_to_contract(res)["forms"])
    dt = time.perf_counter() - t0
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"kind": kind, "files": len(files), "forms": forms, "seconds": dt, "peak_mb": peak_kb / 1024}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--forms", type=int, default=500)
    ap.add_argument("--types", default="txt,pdf,docx,xlsx")
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        _child(*args.child)
        return
    print(f"{'输入类型':<8}{'文件数':>8}{'自评表数':>10}{'用时(秒)':>10}{'表/秒':>10}{'峰值内存(MB)':>14}")
    for kind in args.types.split(","):
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            files, _ = _prepare(kind, args.forms, work)
            listing = work / "files.txt"
            listing.write_text("\n".join(map(str, files)), encoding="utf-8")
            out = subprocess.run([sys.executable, __file__, "--child", kind, str(listing)], capture_output=True,
                                 text=True, check=True).stdout
            r = json.loads(out.strip().splitlines()[-1])
            print(f"{kind:<10}{r['files']:>8}{r['forms']:>10}{r['seconds']:>12.2f}"
                  f"{r['forms'] / r['seconds']:>10.1f}{r['peak_mb']:>14.0f}")


if __name__ == "__main__":
    main()
