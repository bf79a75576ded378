"""Benchmark: the review app with 2,000 forms in its database.

Builds a review database from the bundled samples reviewed as one batch on every core and imported by
one writer (``extractor import``), timed; each copy's forms then
renamed (``（第k批）``) so that the database holds that many distinct forms rather than copies of
53 (copies are one row of the queue). Times full script runs of ``review_app.py`` through
Streamlit's AppTest (the server's work for each interaction), then, in headless chromium, the wall
time of a triage reload, opening a form, and one flag decision by key (A). Prints medians of 5.

usage: python benchmarks/bench_app.py [--forms 2000] [--keep DB | --db DB]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def build_db(work: Path, forms: int, keep: Path | None) -> tuple[Path, int]:
    """A database of ``forms`` distinct forms: the samples reviewed as one batch, imported by one writer."""
    from extractor.core.config import load_config
    from extractor.core.cores import cores
    from extractor.pipeline.batch import run_batch
    from extractor.pipeline.importer import import_batch
    from extractor.store.database import Store

    seeds = sorted((ROOT / "samples").glob("*.txt"))
    files, n, k = [], 0, 0
    while n < forms:
        for s in seeds:
            dst = work / "in" / f"{k:03d}_{s.name}"
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(s, dst)
            files.append(dst)
            k += 1
        n = len(files) // len(seeds) * 53
    db = work / "review.db"
    t0 = time.perf_counter()
    rep = run_batch(files, work / "out", config=load_config(None), workers=cores())
    t1 = time.perf_counter()
    store = Store(db)
    import_batch(store, work / "out")
    t2 = time.perf_counter()
    print(f"批处理 {len(files)} 个文件（{rep.n_forms} 份表，全部核心）{t1 - t0:.1f} 秒；"
          f"单进程导入数据库 {t2 - t1:.1f} 秒")
    with store.tx() as c:  # distinct forms, not copies: each import of a sample is another batch
        c.execute("UPDATE forms SET project_name = COALESCE(project_name, '残片') || '（第' || document_id || '批）', "
                  "copy_key = copy_key || '-' || document_id")
    total = len(store.triage())
    if keep:
        store.conn.execute("VACUUM INTO ?", (str(keep),))
    print(f"导入 {len(files)} 个文件、{total} 份自评表用时 {time.perf_counter() - t0:.1f} 秒")
    return db, total


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--forms", type=int, default=2000)
    ap.add_argument("--keep", type=Path, help="copy the built database here (to profile the app on it)")
    ap.add_argument("--db", type=Path, help="time the app on this database instead of building one")
    args = ap.parse_args()
    from streamlit.testing.v1 import AppTest

    from extractor.store.database import Store

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if args.db:
            db, total = args.db, len(Store(args.db).triage())
        else:
            db, total = build_db(work, args.forms, args.keep)
        os.environ["EXTRACTOR_DB"] = str(db)
        timings: dict[str, list[float]] = {"风险排序页": [], "逐表审核页": []}
        for _ in range(5):
            at = AppTest.from_file(str(ROOT / "review_app.py"), default_timeout=120)
            t = time.perf_counter()
            at.run()
            timings["风险排序页"].append(time.perf_counter() - t)
            at.sidebar.radio[0].set_value("逐表审核")
            t = time.perf_counter()
            at.run()
            timings["逐表审核页"].append(time.perf_counter() - t)
            assert not at.exception, [e.value for e in at.exception]
        for name, ts in timings.items():
            print(f"脚本执行 · {name}：中位数 {statistics.median(ts):.2f} 秒（{total} 份，5 次：{', '.join(f'{x:.2f}' for x in ts)}）")
        if shutil.which("chromium"):
            browser_timings(db, total)


def browser_timings(db: Path, total: int) -> None:
    """Wall time in headless chromium until the triage table, then the worst form, are on screen."""
    import socket
    import subprocess
    import urllib.request

    from playwright.sync_api import expect, sync_playwright

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "EXTRACTOR_DB": str(db), "EXTRACTOR_SEED": "0"}
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(ROOT / "review_app.py"),
                             "--server.address", "127.0.0.1", "--server.headless", "true", "--server.port",
                             str(port)], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"{url}/_stcore/health", timeout=1)
                break
            except OSError:
                time.sleep(0.5)
        with sync_playwright() as p:
            b = p.chromium.launch(executable_path=shutil.which("chromium"), args=[
                "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"])
            page = b.new_page(viewport={"width": 1500, "height": 1000})
            page.goto(url)  # warm-up: first script run imports everything
            expect(page.get_by_text(f"全部 {total} 份", exact=False)).to_be_visible(timeout=60000)
            tri, form, decide = [], [], []
            for _ in range(5):
                t = time.perf_counter()
                page.reload()
                expect(page.get_by_text(f"全部 {total} 份", exact=False)).to_be_visible(timeout=60000)
                expect(page.locator("[data-testid='stDataFrame']").first).to_be_visible()
                tri.append(time.perf_counter() - t)
                t = time.perf_counter()
                page.get_by_role("button", name="打开排在最前的表（先待核，再按风险）").click()
                expect(page.get_by_text(re.compile(r"^第 \d+/\d+ 条")).first).to_be_visible(timeout=60000)
                form.append(time.perf_counter() - t)
                page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60000)
                t = time.perf_counter()
                page.locator("body").press("A")
                expect(page.get_by_text(re.compile(r"条已采纳"))).to_be_visible(timeout=60000)
                decide.append(time.perf_counter() - t)
                page.get_by_text("风险排序", exact=True).first.click()
            b.close()
        for name, ts, bar in (("风险排序页（刷新到表格出现）", tri, 2.0), ("逐表审核页（点击到第一条问题出现）", form, 1.0),
                              ("处理一条问题（按 A 到确认出现）", decide, 0.5)):
            med = statistics.median(ts)
            print(f"浏览器 · {name}：中位数 {med:.2f} 秒（目标 < {bar:g} 秒{'，达到' if med < bar else '，未达到'}；"
                  f"5 次：{', '.join(f'{x:.2f}' for x in ts)}）")
    finally:
        proc.terminate()
        proc.wait(timeout=20)


if __name__ == "__main__":
    main()
