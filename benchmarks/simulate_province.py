"""Simulated province run: sizing figures for a year's forms on a cluster.

A batch of ``--forms`` generated forms of mixed kinds (digital PDFs, Word, Excel, text dumps, and
scans) goes through the real pipeline (``process`` with the default review, plus writing its JSON)
on this machine's worker processes, each file timed in its worker. Scans are the one stubbed part:
each scanned form is generated as its digital twin (the same page, read from its text layer), and its
OCR is charged at per-page times recorded on this machine from real scans (``ocr_page_seconds.json``,
made by ``--record-ocr N``: N pages OCR'd with one onnxruntime thread, as a batch worker does).

From the per-file times it prints the measured throughput here, then the makespan of the same batch
on W workers (files dealt to the first free worker in input order), scaled to ``--province`` forms, with
core-hours and a cost at ``--price`` yuan per core-hour (an assumption to replace with your own).

usage: python benchmarks/simulate_province.py [--forms 20000] [--scan-share 0.75] [--pages-per-form 2]
       [--province 100000] [--price 0.15] [--record-ocr N]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
RECORD = ROOT / "benchmarks" / "ocr_page_seconds.json"

# kind -> (share of the non-scanned forms, forms per file)
DIGITAL_MIX = {"pdf": (0.45, 8), "docx": (0.25, 5), "xlsx": (0.15, 5), "txt": (0.15, 10)}
SCAN_FORMS_PER_FILE = 4  # a 4-page scan: one form a page


def record_ocr(n: int) -> dict:
    """OCR ``n`` real scanned pages here, one thread, after a warm-up page; per-page seconds."""
    os.environ["EXTRACTOR_OCR_THREADS"] = "1"
    import pymupdf
    from bench_batch import gold_forms

    from evalkit.fixtures import render_scan
    from extractor.ocr.pages import _read_one

    with tempfile.TemporaryDirectory() as d:
        pages = []
        sample = ROOT / "samples" / "001_cc20b351adbf8378.scan.pdf"
        with pymupdf.open(str(sample)) as doc:
            pages += [(str(sample), i) for i in range(doc.page_count)]
        for k, form in enumerate(gold_forms(n)):
            p = Path(d) / f"{k}.pdf"
            render_scan([form], p, seed=k, a4=False)
            pages.append((str(p), 0))
        _read_one(pages[0][0], "pdf", pages[0][1])  # warm-up: the models load once per worker
        secs = []
        for path, i in pages[:n]:
            t = time.perf_counter()
            _read_one(path, "pdf", i)
            secs.append(round(time.perf_counter() - t, 3))
    rec = {"pages": secs, "threads": 1, "cores_here": os.cpu_count(),
           "command": f"python benchmarks/simulate_province.py --record-ocr {n}",
           "recorded": time.strftime("%Y-%m-%d")}
    RECORD.write_text(json.dumps(rec, ensure_ascii=False, indent=1), encoding="utf-8")
    return rec


def build(work: Path, n_forms: int, scan_share: float, pages_per_form: int,
          distinct: int = 24) -> list[tuple[Path, int, int]]:
    """The batch's files as (path, forms, scanned pages), in a shuffled input order. ``distinct`` files
    of each kind are rendered, the rest are copies of them (rendering is slower than reading; a copy
    costs the pipeline what its original does)."""
    import shutil

    from bench_batch import gold_forms

    from evalkit.fixtures import render_docx, render_flat, render_pdf, render_xlsx

    render = {"pdf": render_pdf, "docx": render_docx, "xlsx": render_xlsx, "txt": render_flat}
    forms = gold_forms(distinct * 10)
    plan: list[tuple[str, int, bool]] = []  # (kind, forms in the file, scanned)
    n_scan = int(n_forms * scan_share)
    plan += [("pdf", SCAN_FORMS_PER_FILE, True)] * (n_scan // SCAN_FORMS_PER_FILE)
    rest = n_forms - n_scan // SCAN_FORMS_PER_FILE * SCAN_FORMS_PER_FILE
    for kind, (share, per) in DIGITAL_MIX.items():
        plan += [(kind, per, False)] * round(rest * share / per)
    made: dict[tuple[str, int, int], Path] = {}
    files: list[tuple[Path, int, int]] = []
    for k, (kind, per, scanned) in enumerate(plan):
        variant = (kind, per, k % distinct)
        if variant not in made:
            src = work / "distinct" / f"{kind}-{per}-{k % distinct}.{kind}"
            src.parent.mkdir(exist_ok=True)
            start = (k % distinct) * 10 % max(1, len(forms) - per)
            render[kind](forms[start:start + per], src)
            made[variant] = src
        dst = work / f"{'scan' if scanned else kind}{k:05d}.{kind}"
        shutil.copy(made[variant], dst)
        files.append((dst, per, per * pages_per_form if scanned else 0))
    random.Random(7).shuffle(files)
    return files


def timed(path: str) -> tuple[float, int]:
    """In a worker: the whole pipeline on one file, JSON written; (seconds, forms read)."""
    from extractor.core.atomic import write_atomic
    from extractor.core.config import load_config
    from extractor.pipeline.process import process
    from extractor.store.contract import json_chunks, result_to_contract

    t = time.perf_counter()
    res = process(path, load_config(None))
    write_atomic(path + ".json", json_chunks(result_to_contract(res, lazy=True)))
    return time.perf_counter() - t, len(res.forms)


def makespan(costs: list[float], workers: int) -> float:
    import heapq

    free = [0.0] * workers
    for c in costs:
        heapq.heapreplace(free, free[0] + c)
    return max(free)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--forms", type=int, default=20000)
    ap.add_argument("--scan-share", type=float, default=0.75, help="share of forms that arrive as scans")
    ap.add_argument("--pages-per-form", type=int, default=2, help="scanned pages of one scanned form")
    ap.add_argument("--province", type=int, default=100000, help="forms in a province's year")
    ap.add_argument("--price", type=float, default=0.15, help="yuan per core-hour (an assumption)")
    ap.add_argument("--record-ocr", type=int, default=0, help="record N pages' OCR times first")
    args = ap.parse_args()
    rec = record_ocr(args.record_ocr) if args.record_ocr or not RECORD.exists() else json.loads(
        RECORD.read_text(encoding="utf-8"))
    page_secs = rec["pages"]
    from extractor.ocr.pages import cores, shared_pool

    here = cores()
    with tempfile.TemporaryDirectory() as d:
        work = Path(d)
        t = time.perf_counter()
        files = build(work, args.forms, args.scan_share, args.pages_per_form)
        print(f"生成 {len(files)} 个文件、{sum(k for _, k, _ in files)} 份表（扫描件占 {args.scan_share:.0%}，"
              f"每份 {args.pages_per_form} 页，共 {sum(p for _, _, p in files)} 页），用时 "
              f"{time.perf_counter() - t:.0f} 秒；OCR 按本机实测 {len(page_secs)} 页计时："
              f"中位 {statistics.median(page_secs):.2f} 秒/页（单线程）")
        pool = shared_pool(here)
        t = time.perf_counter()
        futures = [pool.submit(timed, str(p)) for p, _, _ in files]
        results = [f.result() for f in futures]
        wall = time.perf_counter() - t
    read = sum(n for _, n in results)
    rng = random.Random(11)
    costs, ocr_total = [], 0.0
    for (_p, _k, pages), (secs, _n) in zip(files, results):
        ocr = sum(rng.choice(page_secs) for _ in range(pages))
        ocr_total += ocr
        costs.append(secs + ocr)
    pipeline = sum(s for s, _ in results)
    total = sum(costs)
    print(f"本机实测（{here} 个工作进程，不含 OCR）：{wall:.0f} 秒处理完 {len(files)} 个文件，读出 {read} 份表；"
          f"流水线合计 {pipeline / 3600:.2f} 核时，另计 OCR {ocr_total / 3600:.2f} 核时")
    reps = -(-args.province // read)  # the province: this batch's files, as many times as it takes
    province_costs = costs * reps
    n_prov = read * reps
    print(f"\n按 {n_prov:,} 份表（本批 {reps} 倍，构成相同）推算；费用按每核时 {args.price} 元（假设值，请换成实际单价）：")
    print("| 工作进程（核） | 每小时处理表数 | 全省用时（小时） | 核时 | 费用（元） |")
    print("|---:|---:|---:|---:|---:|")
    for w in sorted({here, 8, 32, 64, 128, 256}):
        hours = makespan(province_costs, w) / 3600
        print(f"| {w} | {n_prov / hours:,.0f} | {hours:.1f} | {total * reps / 3600:,.0f} | "
              f"{total * reps / 3600 * args.price:,.0f} |")
    per_core = read / total * 3600
    print(f"\n每核每小时约 {per_core:,.0f} 份表；要在 T 小时内完成 N 份表，约需 N ÷ ({per_core:,.0f} × T) 个核"
          f"（例：{args.province} 份、24 小时内 → {args.province / (per_core * 24):.0f} 核）。")


if __name__ == "__main__":
    main()
