"""End to end in a real headless browser (Debian chromium driven by Playwright): import a sample,
open the worst form, correct a value, reject a flag, reload the page, and see both persisted.
Screenshots go to tests/_generated/."""

from __future__ import annotations

import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from browser_support import field
from conftest import ROOT

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = ROOT / "tests" / "_generated"

if not Path(CHROMIUM).exists():
    if os.environ.get("CI"):
        raise RuntimeError("CI 需要 Debian 的 chromium（/usr/bin/chromium）：.ci/run 应先安装它")
    pytest.skip("没有安装 chromium（apt-get install chromium）", allow_module_level=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture()
def app(tmp_path: Path):  # type: ignore[no-untyped-def]
    port = _free_port()
    db = tmp_path / "review.db"
    env = {**os.environ, "EXTRACTOR_DB": str(db), "EXTRACTOR_SEED": "0"}
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(ROOT / "review_app.py"),
                             "--server.address", "127.0.0.1", "--server.headless", "true",
                             "--server.port", str(port), "--browser.gatherUsageStats", "false"],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    for _ in range(120):
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=1).status == 200:
                break
        except OSError:
            time.sleep(0.5)
    else:
        proc.kill()
        raise RuntimeError("streamlit did not start")
    yield url, db
    proc.terminate()
    proc.wait(timeout=20)


def test_import_correct_reject_reload(app, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    url, db = app
    SHOTS.mkdir(parents=True, exist_ok=True)
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(ROOT / "samples" / "000_6226a1c3cfbc3ef3.txt", folder)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        page = browser.new_page(viewport={"width": 1500, "height": 1000})
        page.goto(url)
        page.get_by_text("导入", exact=True).click()
        page.get_by_label("或输入文件夹路径").fill(str(folder))
        page.get_by_label("或输入文件夹路径").press("Enter")
        page.get_by_role("button", name="开始导入").click()
        expect(page.get_by_text("导入完成")).to_be_visible(timeout=60000)
        page.screenshot(path=str(SHOTS / "1_import.png"))

        page.get_by_text("风险排序", exact=True).first.click()
        page.get_by_role("button", name="打开排在最前的表（先待核，再按风险）").click()
        conn = sqlite3.connect(db)
        worst = conn.execute("SELECT project_name FROM forms ORDER BY risk DESC, id LIMIT 1").fetchone()[0]
        expect(page.get_by_role("heading", name=worst)).to_be_visible(timeout=30000)
        lead = field(page, "项目负责人")
        lead.fill("浏览器更正")
        page.get_by_role("button", name="保存更正").click()
        expect(page.get_by_text("已保存")).to_be_visible(timeout=30000)
        page.screenshot(path=str(SHOTS / "2_corrected.png"), full_page=False)

        first_flag = page.locator("[data-testid='stForm']").filter(has_text="保存处理意见").first
        first_flag.get_by_text("驳回", exact=True).click()
        first_flag.get_by_role("button", name="保存处理意见").click()
        expect(page.get_by_text("— 驳回").first).to_be_visible(timeout=30000)

        page.reload()
        page.get_by_text("逐表审核", exact=True).click()
        expect(page.get_by_role("heading", name=worst)).to_be_visible(timeout=30000)
        expect(field(page, "项目负责人")).to_have_value("浏览器更正")
        expect(page.get_by_text("— 驳回").first).to_be_visible()
        expect(page.locator("mark").first).to_be_visible(timeout=30000)  # the value highlighted in the source
        page.screenshot(path=str(SHOTS / "3_after_reload.png"))
        browser.close()
    n = conn.execute("SELECT COUNT(*) FROM flag_decisions WHERE decision='rejected'").fetchone()[0]
    assert n == 1
