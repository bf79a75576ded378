"""Benchmark: a batch serial (``-j 1``) against every core (``-j 0``, the default), side by side.

Two batches, built from the eval sets' gold forms (no file of the hidden sets): 40 digital PDFs
(``--forms-per-pdf`` forms each, default 8, a page a form, with a text layer) and 40 one-page scans
(one form each, image-only, degraded like a scan). Each
batch runs as a whole ``extractor extract`` process with the OCR cache off and ``--force``, serial
then parallel, alternating, medians of ``--repeat`` runs; the outputs of the two are compared byte
for byte. When Ray is installed (``pip install '.[cluster]'``) each batch also runs with ``--ray local``
(a Ray instance started by the command itself, so its start-up is in the figure), compared too.
Last, the peak resident memory of ``extractor review`` on one text file of ``--big-forms`` forms.

usage: python benchmarks/bench_batch.py [--files 40] [--repeat 3] [--big-forms 10010]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def gold_forms(n: int) -> list[dict]:
    forms: list[dict] = []
    for d in ("seeds", "regional", "heldout"):
        for g in sorted((ROOT / "eval_sets" / d).glob("*.gold.json")):
            forms += [f for f in json.loads(g.read_text(encoding="utf-8"))["forms"] if f.get("project_name")]
    return [forms[k % len(forms)] for k in range(n)]


def build(work: Path, n: int, per_pdf: int) -> dict[str, Path]:
    from evalkit.fixtures import render_pdf, render_scan

    forms = gold_forms(n * per_pdf)
    pdfs, scans = work / "pdf", work / "scan"
    pdfs.mkdir()
    scans.mkdir()
    for k in range(n):
        render_pdf(forms[k * per_pdf:(k + 1) * per_pdf], pdfs / f"{k:03d}.pdf")
        render_scan([forms[k]], scans / f"{k:03d}.pdf", seed=k, a4=False)  # one page each
    return {"数字PDF": pdfs, "单页扫描件": scans}


def run(folder: Path, out: Path, workers: int, *extra: str) -> float:
    env = {**os.environ, "EXTRACTOR_OCR_CACHE": "off"}
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "extractor", "extract", str(folder), "-o", str(out), "-q", "--force",
                    "-j", str(workers), *extra], env=env, cwd=ROOT, check=False, timeout=3600)
    return time.perf_counter() - t


def peak_rss(args: list[str]) -> tuple[float, float]:
    """(seconds, peak RSS in MB) of one ``extractor`` process."""
    t = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "extractor", *args], cwd=ROOT, stdout=subprocess.DEVNULL)
    _, _, usage = os.wait4(proc.pid, 0)
    return time.perf_counter() - t, usage.ru_maxrss / 1024


def big_file(path: Path, n: int) -> Path:
    text = (ROOT / "samples" / "001_cc20b351adbf8378.txt").read_text(encoding="utf-8")  # 5 forms
    path.write_text("\n".join([text] * (n // 5)), encoding="utf-8")
    return path


def outputs(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(out.glob("*.json")) if p.name != "_batch.json"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=40)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--forms-per-pdf", type=int, default=8)
    ap.add_argument("--big-forms", type=int, default=10010, help="0: skip the memory figure")
    args = ap.parse_args()
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    with tempfile.TemporaryDirectory() as d:
        work = Path(d)
        batches = build(work, args.files, args.forms_per_pdf)
        print(f"本机 {cores} 个核心；每批 {args.files} 个文件（数字PDF每个 {args.forms_per_pdf} 份表）；"
              f"OCR 缓存关闭；{args.repeat} 次取中位数")
        try:
            import ray  # noqa: F401
            has_ray = True
        except ImportError:
            has_ray = False
        for name, folder in batches.items():
            serial, par = [], []
            for r in range(args.repeat):
                serial.append(run(folder, work / f"s{name}{r}", 1))
                par.append(run(folder, work / f"p{name}{r}", 0))
            same = outputs(work / f"s{name}0") == outputs(work / f"p{name}0")
            s, p = statistics.median(serial), statistics.median(par)
            print(f"{name}：逐个 {s:.1f} 秒，全部核心 {p:.1f} 秒，加速 {s / p:.2f} 倍；"
                  f"输出{'逐字节相同' if same else '不同！'}（各次：逐个 {', '.join(f'{x:.1f}' for x in serial)}；"
                  f"并行 {', '.join(f'{x:.1f}' for x in par)}）")
            if has_ray:
                t_ray = run(folder, work / f"r{name}", 0, "--ray", "local")
                same_ray = outputs(work / f"s{name}0") == outputs(work / f"r{name}")
                print(f"{name}：--ray local {t_ray:.1f} 秒（含启动 Ray），比本机并行多 {t_ray - p:+.1f} 秒；"
                      f"输出与逐个处理{'逐字节相同' if same_ray else '不同！'}")
        if not has_ray:
            print("Ray：未安装（pip install '.[cluster]' 后可比较 --ray local）")
        if args.big_forms:
            big = big_file(work / "big.txt", args.big_forms)
            for cmd in ("extract", "review"):
                secs, mb = peak_rss([cmd, str(big), "-o", str(work / f"big-{cmd}"), "-q", "--force", "-j", "1"])
                print(f"一个含 {args.big_forms} 份表的文本文件，{cmd}：{secs:.1f} 秒，峰值内存 {mb:.0f} MB（一个进程）")


if __name__ == "__main__":
    main()
