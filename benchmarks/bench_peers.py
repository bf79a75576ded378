"""Benchmark: our reader beside the tools a user would pick instead, on the same files, in one run.

Digital PDF: the 21 real forms of ``eval_sets/real`` and the 29-form seed 002, each rendered into one
PDF with a text layer. ``extractor extract`` (whole process: interpreter, imports, reading, the
contract JSON written) against a process that opens the same file with pdfplumber and calls
``extract_tables()`` on every page (cell grids only). CPU time (user + system) of each child.

Scans: seed pages rendered into a degraded image-only PDF (the scanned eval set's renderer).
``extractor extract`` with the OCR cache off against bare rapidocr reading the same page images
(rendered to PNG beforehand, outside the timing) with its default settings, one process, as a
user of rapidocr would call it. Wall time of each child.

Runs alternate (ours, peer, ours, peer, ...). Printed: the median time of each, and the median of the
ratios of each adjacent pair (a shared machine's speed drifts over a run; the pairs see the same drift).

usage: python benchmarks/bench_peers.py [--repeat 5] [--scan-pages 6] [--only pdf|scan]
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
PY = sys.executable
EXTRACTOR = str(Path(PY).with_name("extractor"))

PDFPLUMBER = r"""
import sys, pdfplumber
with pdfplumber.open(sys.argv[1]) as pdf:
    n = sum(len(t) for p in pdf.pages for t in p.extract_tables())
print(n)
"""

RAPIDOCR = r"""
import sys
from rapidocr import RapidOCR
engine = RapidOCR()
n = 0
for path in sys.argv[1:]:
    res = engine(path)
    n += len(res.txts or ())
print(n)
"""


def _run(cmd: list[str], env: dict | None = None) -> tuple[float, float]:
    """(CPU seconds of the child, wall seconds) of one whole process."""
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _pid, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t
    err = proc.stderr.read().decode("utf-8", "replace") if proc.stderr else ""
    if os.waitstatus_to_exitcode(status) not in (0,):
        raise SystemExit(f"{cmd[:3]} failed:\n{err[-2000:]}")
    return usage.ru_utime + usage.ru_stime, wall


def _forms(pattern: str) -> list[dict]:
    out = []
    for g in sorted((ROOT / "eval_sets").glob(pattern)):
        out.extend(json.loads(g.read_text(encoding="utf-8"))["forms"])
    return out


def _pdf_inputs(work: Path) -> list[tuple[str, Path, int]]:
    from evalkit.fixtures import render_pdf

    made = []
    for name, pattern in (("real", "real/*.gold.json"), ("seed002", "seeds/002_*.gold.json")):
        forms = _forms(pattern)
        path = work / f"{name}.pdf"
        render_pdf(forms, path)
        made.append((name, path, len(forms)))
    return made


def _scan_inputs(work: Path, pages: int) -> tuple[Path, list[Path]]:
    import pymupdf

    from evalkit.fixtures import render_scan

    forms = _forms("seeds/00[0-1]_*.gold.json")
    path = work / "scan.pdf"
    render_scan(forms, path, seed=11)
    doc = pymupdf.open(str(path))
    keep = pymupdf.open()
    keep.insert_pdf(doc, to_page=min(pages, doc.page_count) - 1)
    doc.close()
    keep.save(str(work / "scan_cut.pdf"))
    pngs = []
    for i, page in enumerate(keep):
        # the page image as embedded (its own resolution), which is what our reader gets too
        xref = page.get_images()[0][0]
        pix = pymupdf.Pixmap(keep, xref)
        png = work / f"page{i}.png"
        pix.save(str(png))
        pngs.append(png)
    keep.close()
    return work / "scan_cut.pdf", pngs


def _median_pair(ours: list[str], peer: list[str], repeat: int, env: dict, pick: int) -> tuple[float, float, float]:
    """(median of ours, median of the peer's, median of ours / peer's over adjacent pairs)."""
    a, b = [], []
    for _ in range(repeat):
        a.append(_run(ours, env)[pick])
        b.append(_run(peer, env)[pick])
    return statistics.median(a), statistics.median(b), statistics.median(x / y for x, y in zip(a, b))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--scan-pages", type=int, default=6)
    ap.add_argument("--only", choices=["pdf", "scan"])
    args = ap.parse_args()
    try:
        import pdfplumber  # noqa: F401
    except ImportError:
        raise SystemExit("需要 pdfplumber（测试依赖：pip install -e '.[test]'）") from None
    env = dict(os.environ, EXTRACTOR_OCR_CACHE="off")
    # as installed: modules compiled once to bytecode and cached (a sandbox may switch that off)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    subprocess.run([PY, "-m", "compileall", "-q", str(ROOT / "extractor")], env=env, check=False)
    print(f"cores: {os.cpu_count()}  repeat: {args.repeat} (medians, alternating runs)")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if args.only in (None, "pdf"):
            print("digital PDF, CPU seconds of the whole process (user + system):")
            for name, path, n in _pdf_inputs(work):
                import pymupdf

                with pymupdf.open(str(path)) as d:
                    pages = d.page_count
                ours, peer, ratio = _median_pair([EXTRACTOR, "extract", str(path), "-o", str(work / "out"), "--force"],
                                          [PY, "-c", PDFPLUMBER, str(path)], args.repeat, env, 0)
                print(f"  {name:8s} {pages:3d} pages {n:3d} forms  extractor extract {ours:6.2f} s   "
                      f"pdfplumber extract_tables {peer:6.2f} s   ratio {ratio:.2f}x (bar <= 0.5x)")
        if args.only in (None, "scan"):
            scan, pngs = _scan_inputs(work, args.scan_pages)
            print(f"scans, wall seconds ({len(pngs)} degraded pages, OCR cache off):")
            ours, peer, ratio = _median_pair([EXTRACTOR, "extract", str(scan), "-o", str(work / "out"), "--force"],
                                      [PY, "-c", RAPIDOCR, *map(str, pngs)], args.repeat, env, 1)
            print(f"  extractor extract {ours:6.2f} s   bare rapidocr {peer:6.2f} s   "
                  f"ratio {ratio:.2f}x (bar <= 0.75x, aim 0.6x)")


if __name__ == "__main__":
    main()
