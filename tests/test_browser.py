"""End to end in a real headless browser (Debian chromium driven by Playwright): import a sample,
open the worst form, correct a value, reject a flag, reload the page, and see both persisted.
Screenshots go to tests/_generated/."""

from __future__ import annotations

import re
import shutil
import sqlite3
from pathlib import Path

import pytest
from browser_support import ARGS, CHROMIUM, SHOTS, field, import_folder, need_chromium, open_flag_details, review_app
from conftest import ROOT

need_chromium()


@pytest.fixture()
def app(tmp_path: Path):  # type: ignore[no-untyped-def]
    db = tmp_path / "review.db"
    with review_app(db) as url:
        yield url, db


def test_import_correct_reject_reload(app, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    url, db = app
    SHOTS.mkdir(parents=True, exist_ok=True)
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(ROOT / "samples" / "000_6226a1c3cfbc3ef3.txt", folder)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = browser.new_page(viewport={"width": 1500, "height": 1000})
        page.goto(url)
        import_folder(page, folder)
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

        open_flag_details(page)
        first_flag = page.locator("[data-testid='stForm']").filter(has_text="保存处理意见").first
        first_flag.get_by_text("驳回", exact=True).click()
        first_flag.get_by_role("button", name="保存处理意见").click()
        expect(page.get_by_text("— 驳回").first).to_be_visible(timeout=30000)

        page.reload()
        page.get_by_text("逐表审核", exact=True).click()
        expect(page.get_by_role("heading", name=worst)).to_be_visible(timeout=30000)
        expect(field(page, "项目负责人")).to_have_value("浏览器更正")
        open_flag_details(page)
        expect(page.get_by_text("— 驳回").first).to_be_visible()
        expect(page.locator("mark").first).to_be_visible(timeout=30000)  # the value highlighted in the source
        page.screenshot(path=str(SHOTS / "3_after_reload.png"))
        browser.close()
    n = conn.execute("SELECT COUNT(*) FROM flag_decisions WHERE decision='rejected'").fetchone()[0]
    assert n == 1


def test_a_report_beside_its_source_and_in_the_draft(app, tmp_path: Path) -> None:
    """Import a department report with a 支出 > 收入 gap: the report page shows its figures, its
    source text and the review's finding, and the draft of 问题与建议 carries the finding."""
    from playwright.sync_api import expect, sync_playwright

    url, _db = app
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(ROOT / "eval_sets" / "real" / "007_nanxian_zhengxie_2021.txt", folder)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = browser.new_page(viewport={"width": 1500, "height": 1000})
        page.goto(url)
        import_folder(page, folder)
        page.get_by_text("绩效评价报告", exact=True).first.click()
        expect(page.get_by_text("大于收入792.22万元").first).to_be_visible(timeout=30000)
        expect(page.get_by_text("799.12").first).to_be_visible()
        expect(page.get_by_label("报告原文")).to_have_value(re.compile("部门整体支出绩效评价报告"), timeout=30000)
        page.screenshot(path=str(SHOTS / "report_view.png"))
        page.get_by_text("问题与建议", exact=True).first.click()
        draft = page.get_by_label("草稿（可直接修改，保存后下次打开仍在）")
        expect(draft).to_contain_text("绩效评价报告反映问题不够客观全面", timeout=30000)
        browser.close()


def test_the_reviewer_name_survives_a_reload_and_every_decision_is_kept(app, tmp_path: Path) -> None:
    """Issue 16 (audit): the 审核人 typed once stays after a reload (it lives in the page address),
    and a flag decided twice shows both decisions with who and when; the audit export lists them."""
    from playwright.sync_api import expect, sync_playwright

    from extractor.app_support import audit_rows
    from extractor.store.database import Store

    url, db = app
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(ROOT / "samples" / "000_6226a1c3cfbc3ef3.txt", folder)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = browser.new_page(viewport={"width": 1500, "height": 1000})
        page.goto(url)
        import_folder(page, folder)
        who = field(page, "审核人")
        who.fill("张评审")
        who.press("Enter")
        expect(page).to_have_url(re.compile("reviewer="), timeout=30000)
        page.get_by_text("逐表审核", exact=True).click()
        open_flag_details(page)
        box = page.locator("[data-testid='stForm']").filter(has_text="保存处理意见").first
        box.get_by_text("驳回", exact=True).click()
        box.get_by_role("button", name="保存处理意见").click()
        expect(page.get_by_text("— 驳回").first).to_be_visible(timeout=30000)
        box = page.locator("[data-testid='stForm']").filter(has_text="保存处理意见").first
        box.get_by_text("采纳", exact=True).click()
        box.get_by_role("button", name="保存处理意见").click()
        expect(page.get_by_text("— 采纳").first).to_be_visible(timeout=30000)
        page.reload()
        expect(field(page, "审核人")).to_have_value("张评审", timeout=30000)
        page.get_by_text("逐表审核", exact=True).click()
        open_flag_details(page)
        history = page.get_by_text(re.compile("处理记录：.*张评审：驳回.*张评审：采纳")).first
        expect(history).to_be_visible(timeout=30000)
        page.screenshot(path=str(SHOTS / "audit_history.png"))
        browser.close()
    rows = [r for r in audit_rows(Store(db)) if r[3] == "处理意见"]
    assert [r[6] for r in rows] == ["驳回", "采纳"] and {r[7] for r in rows} == {"张评审"}
