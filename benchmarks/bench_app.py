"""Benchmark: the review app's triage page and form view with 500+ forms loaded.

Builds a review database from replicated seeds (530 forms), then times full script runs of
``review_app.py`` through Streamlit's AppTest (what the server does for each interaction, before
the browser paints): the triage page, and the form view of the riskiest form. Prints the median of
5 runs each.

usage: python benchmarks/bench_app.py [--forms 500]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--forms", type=int, default=500)
    args = ap.parse_args()
    from streamlit.testing.v1 import AppTest

    from extractor.pipeline.importer import import_files
    from extractor.store.database import Store

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        seeds = sorted((ROOT / "samples").glob("*.txt"))
        files, n, k = [], 0, 0
        while n < args.forms:
            for s in seeds:
                dst = work / "in" / f"{k:03d}_{s.name}"
                dst.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(s, dst)
                files.append(dst)
                k += 1
            n = len(files) // len(seeds) * 53
        db = work / "review.db"
        t0 = time.perf_counter()
        store = Store(db)
        import_files(store, files)
        total = len(store.triage())
        print(f"导入 {len(files)} 个文件、{total} 份自评表用时 {time.perf_counter() - t0:.1f} 秒")
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
            tri, form = [], []
            for _ in range(5):
                t = time.perf_counter()
                page.reload()
                expect(page.get_by_text(f"全部 {total} 份", exact=False)).to_be_visible(timeout=60000)
                expect(page.locator("[data-testid='stDataFrame']").first).to_be_visible()
                tri.append(time.perf_counter() - t)
                t = time.perf_counter()
                page.get_by_role("button", name="打开风险最高的表").click()
                expect(page.get_by_text("审核意见", exact=True)).to_be_visible(timeout=60000)
                form.append(time.perf_counter() - t)
                page.get_by_text("风险排序", exact=True).first.click()
            b.close()
        print(f"浏览器 · 风险排序页（刷新到表格出现）：中位数 {statistics.median(tri):.2f} 秒（5 次：{', '.join(f'{x:.2f}' for x in tri)}）")
        print(f"浏览器 · 逐表审核页（点击到审核意见出现）：中位数 {statistics.median(form):.2f} 秒（5 次：{', '.join(f'{x:.2f}' for x in form)}）")
    finally:
        proc.terminate()
        proc.wait(timeout=20)


if __name__ == "__main__":
    main()
