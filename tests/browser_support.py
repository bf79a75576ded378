"""A real review app (``streamlit run``) on a free loopback port and a headless Debian chromium
driving it, for the end-to-end tests. Playwright never downloads a browser of its own."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = ROOT / "tests" / "_generated"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


def need_chromium() -> None:
    """Skip the module without chromium, except in CI, where its absence is an error."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            raise RuntimeError("CI 需要 Debian 的 chromium（/usr/bin/chromium）：.ci/run 应先安装它")
        pytest.skip("没有安装 chromium（apt-get install chromium）", allow_module_level=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def review_app(db: Path, app: Path = ROOT / "review_app.py", env: dict[str, str] | None = None) -> Iterator[str]:
    """The app on its own database, seeding off (``env``: more settings); yields its URL."""
    port = free_port()
    env = {**os.environ, "EXTRACTOR_DB": str(db), "EXTRACTOR_SEED": "0",
           "EXTRACTOR_OCR_CACHE": str(db.parent / "ocr-cache"), **(env or {})}  # scans are read, not recalled
    log = open(db.parent / f"streamlit-{port}.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(app),
                             "--server.address", "127.0.0.1", "--server.headless", "true",
                             "--server.port", str(port), "--browser.gatherUsageStats", "false"],
                            cwd=app.parent, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):
            try:
                if urllib.request.urlopen(f"{url}/_stcore/health", timeout=1).status == 200:
                    break
            except OSError:
                time.sleep(0.25)
        else:
            raise RuntimeError("streamlit did not start")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
    # reached only when the test body passed: the server's log must hold no traceback either
    text = (db.parent / f"streamlit-{port}.log").read_text(encoding="utf-8", errors="replace")
    assert "Traceback" not in text and "Error:" not in text, text[-3000:]


@contextmanager
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            yield b
        finally:
            b.close()


def open_page(b, url: str, page_name: str | None = None):  # type: ignore[no-untyped-def]
    """A new tab on the app, showing ``page_name`` (a sidebar page) once the app has drawn."""
    from playwright.sync_api import expect

    page = b.new_page(viewport={"width": 1500, "height": 1000})
    page.goto(url)
    expect(page.get_by_text("绩效自评表审核", exact=True).first).to_be_visible(timeout=60000)
    if page_name:
        page.locator("[data-testid='stSidebar']").get_by_text(page_name, exact=True).click()
    return page


def settle(page, ms: int = 400) -> None:  # type: ignore[no-untyped-def]
    """Wait until the app has no script run in flight."""
    page.wait_for_timeout(ms)
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60000)
    page.wait_for_timeout(200)


def field(page, label: str):  # type: ignore[no-untyped-def]
    """The one input box labelled ``label``, once a rerun has finished replacing the old one (while a
    script runs, Streamlit keeps the previous run's elements on screen beside the new ones)."""
    page.wait_for_function("l => document.querySelectorAll(`[aria-label='${l}']`).length === 1"
                           " && !document.querySelector('[data-testid=\"stStatusWidget\"]')", arg=label,
                           timeout=60000)
    return page.get_by_label(label, exact=True)


def import_folder(page, folder: Path) -> None:  # type: ignore[no-untyped-def]
    """Import every file of ``folder`` through the app's 导入 page and wait until it is done."""
    from playwright.sync_api import expect

    page.get_by_text("导入", exact=True).click()
    page.get_by_label("或输入文件夹路径").fill(str(folder))
    page.get_by_label("或输入文件夹路径").press("Enter")
    page.get_by_role("button", name="开始导入").click()
    expect(page.get_by_text("导入完成")).to_be_visible(timeout=60000)


def open_flag_details(page) -> None:  # type: ignore[no-untyped-def]
    """Unfold the form page's 逐条详细处理 list (folded by default: the quick panel comes first)."""
    from playwright.sync_api import expect

    summary = page.get_by_text(re.compile("^逐条详细处理")).first
    expect(summary).to_be_visible(timeout=30000)
    if not page.locator("[data-testid='stForm']").filter(has_text="保存处理意见").first.is_visible():
        summary.click()
    expect(page.locator("[data-testid='stForm']").filter(has_text="保存处理意见").first).to_be_visible(timeout=30000)
