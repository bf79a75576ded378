"""Issue 16 in a real browser: copies of one form (its .txt, .pdf and .docx, a file imported twice)
are one row, reviewed and counted once; the draft follows the scope until it is edited by hand, and
then is replaced only after the reviewer has seen the difference and confirmed; the Word and Excel
downloads open with python-docx and openpyxl."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

from browser_support import SHOTS, browser, need_chromium, open_page, review_app, settle
from conftest import ROOT

from extractor.core.config import load_config
from extractor.pipeline.importer import import_files
from extractor.pipeline.process import reviewer
from extractor.store.database import Store

need_chromium()

SEED = "001_cc20b351adbf8378"


def _copies_db(tmp_path: Path) -> Path:
    from evalkit.fixtures import render_docx, render_pdf

    gold = json.loads((ROOT / "eval_sets" / "seeds" / f"{SEED}.gold.json").read_text(encoding="utf-8"))
    inbox = tmp_path / "in"
    inbox.mkdir()
    shutil.copy(ROOT / "samples" / f"{SEED}.txt", inbox / "信访办.txt")
    shutil.copy(ROOT / "samples" / f"{SEED}.txt", inbox / "信访办（重复报送）.txt")
    render_pdf(gold["forms"], inbox / "信访办.pdf")
    render_docx(gold["forms"], inbox / "信访办.docx")
    db = tmp_path / "review.db"
    import_files(Store(db, rereview=reviewer(load_config())), sorted(inbox.iterdir()))
    return db


def test_copies_of_one_form_are_one_row_reviewed_once_and_counted_once(tmp_path: Path) -> None:
    from playwright.sync_api import expect

    db = _copies_db(tmp_path)
    store = Store(db)
    distinct, every = len(store.triage()), len(store.triage(copies=True))
    assert every == 4 * distinct, (distinct, every)
    with review_app(db) as url, browser() as b:
        page = open_page(b, url, "风险排序")
        expect(page.get_by_text(f"共 {distinct} 份（全部 {distinct} 份；另有{every - distinct}份是同一份表的副本")).to_be_visible(
            timeout=30000)
        page.get_by_role("button", name="打开排在最前的表（先待核，再按风险）").click()
        expect(page.get_by_text("同一份表的副本另有3份")).to_be_visible(timeout=30000)
        page.screenshot(path=str(SHOTS / "copies_form.png"))
        page.locator("[data-testid='stSidebar']").get_by_text("问题与建议", exact=True).click()
        expect(page.get_by_text(f"按 {distinct} 份自评表起草（同一份表的副本只计一次）")).to_be_visible(timeout=30000)
        draft = page.get_by_label("草稿（可直接修改，保存后下次打开仍在）")
        expect(draft).to_contain_text(f"自评表{distinct}份", timeout=30000)
        assert f"{every}份" not in draft.input_value()


def test_draft_follows_the_scope_until_edited_then_regenerates_only_after_confirmation(tmp_path: Path) -> None:
    import docx
    import openpyxl
    from playwright.sync_api import expect

    db = tmp_path / "review.db"
    store = Store(db, rereview=reviewer(load_config()))
    for name in ("000_6226a1c3cfbc3ef3", SEED):
        shutil.copy(ROOT / "samples" / f"{name}.txt", tmp_path / f"{name}.txt")
    import_files(store, [tmp_path / "000_6226a1c3cfbc3ef3.txt", tmp_path / f"{SEED}.txt"])
    depts = sorted({r["department"] for r in store.triage() if r["department"]})
    assert len(depts) >= 2
    with review_app(db) as url, browser() as b:
        page = open_page(b, url, "问题与建议")
        page.get_by_text("只用已采纳（含修改后采纳）的审核意见").click()
        settle(page)
        box = page.get_by_label("草稿（可直接修改，保存后下次打开仍在）")
        expect(box).to_contain_text("存在的问题", timeout=30000)
        whole = box.input_value()
        # not edited: a narrower scope replaces the text at once
        page.get_by_label("只起草这些主管部门（不选则全部）").click()
        page.keyboard.type(depts[0])
        page.keyboard.press("Enter")
        page.keyboard.press("Escape")
        settle(page)
        narrow = box.input_value()
        assert narrow != whole and "存在的问题" in narrow
        # edited by hand and saved: a change of scope no longer touches the box
        box.fill(narrow + "\n人工补充：该部门未提供满意度问卷。")
        page.get_by_role("button", name="保存草稿").click()
        settle(page)
        page.get_by_label("范围").get_by_text("已复核的自评表").click()
        settle(page)
        expect(page.get_by_text("编辑框中的草稿与按当前范围和审核意见生成的草稿不同（含人工修改）")).to_be_visible(timeout=30000)
        assert "人工补充：该部门未提供满意度问卷。" in box.input_value()
        page.get_by_label("范围").get_by_text("全部自评表").click()
        settle(page)
        page.get_by_role("button", name="按当前意见重新生成").click()
        expect(page.get_by_text("其中的人工修改会被覆盖")).to_be_visible(timeout=30000)
        expect(page.get_by_text("－ 人工补充：该部门未提供满意度问卷。")).to_be_visible(timeout=30000)
        page.screenshot(path=str(SHOTS / "draft_regenerate_diff.png"), full_page=True)
        page.get_by_role("button", name="取消").click()
        settle(page)
        expect(page.get_by_text("其中的人工修改会被覆盖")).to_be_hidden(timeout=30000)
        assert "人工补充" in box.input_value()  # cancelled: nothing replaced
        page.get_by_role("button", name="按当前意见重新生成").click()
        expect(page.get_by_text("其中的人工修改会被覆盖")).to_be_visible(timeout=30000)  # the dialog, as a user sees it
        page.get_by_role("button", name="确认替换").click()
        settle(page)
        expect(page.get_by_text("草稿历史（被替换的人工修改稿，共1份）")).to_be_visible(timeout=30000)
        assert "人工补充" not in box.input_value()
        with page.expect_download() as dl:
            page.get_by_role("button", name="下载 Word").click()
        word = docx.Document(io.BytesIO(Path(dl.value.path()).read_bytes()))
        sec = word.sections[0]
        assert (round(sec.page_width.cm, 1), round(sec.page_height.cm, 1)) == (21.0, 29.7)
        assert word.tables and word.tables[0].rows[0].cells[0].text == "问题"  # the annex, a real table
        page.locator("[data-testid='stSidebar']").get_by_text("导出", exact=True).click()
        with page.expect_download() as dl:
            page.get_by_role("button", name="导出Excel工作簿").click()
        wb = openpyxl.load_workbook(io.BytesIO(Path(dl.value.path()).read_bytes()))
        assert wb.sheetnames[0] and all(ws.freeze_panes for ws in wb.worksheets if ws.max_row > 1)
    # the replaced hand edit is kept in the database
    assert any("人工补充" in h["text"] for h in Store(db).drafts("history:"))


ALLOWED = {"Markdown", "Word", "Excel", "JSON", "CSV", "PDF", "OCR", "Alt", "SQLite", "Enter", "Esc"}
# the text a reader sees: visible text nodes, icon ligatures (``keyboard_double_arrow_left``) aside
VISIBLE_TEXT = """() => {
  const out = [];
  const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walk.nextNode(); n; n = walk.nextNode()) {
    const el = n.parentElement;
    if (!el || el.closest("[data-testid='stIconMaterial'],script,style") || !el.checkVisibility()) continue;
    out.push(n.textContent);
  }
  return out.join(" ");
}"""


def test_no_english_on_any_page(tmp_path: Path) -> None:
    """Every page's rendered text, data aside (file names, paths, what the forms print), has no Latin word."""
    import re

    db = _copies_db(tmp_path)
    data = " ".join(json.dumps(Store(db).effective_form(r["id"]), ensure_ascii=False) for r in Store(db).triage())
    data += " " + " ".join([str(db), *(d["name"] for d in Store(db).documents())])
    with review_app(db) as url, browser() as b:
        page = open_page(b, url, "风险排序")
        settle(page)
        seen: dict[str, set[str]] = {}
        for name in ("风险排序", "逐表审核", "绩效评价报告", "问题与建议", "导入", "导出"):
            page.locator("[data-testid='stSidebar']").get_by_text(name, exact=True).click()
            settle(page, 800)
            text = re.sub(r"\.[A-Za-z]{2,5}\b", " ", page.evaluate(VISIBLE_TEXT))  # file extensions are data
            words = {w for w in re.findall(r"[A-Za-z]{2,}", text) if w not in ALLOWED and w not in data}
            if words:
                seen[name] = words
            page.screenshot(path=str(SHOTS / f"page_{name}.png"), full_page=True)
    assert not seen, json.dumps({k: sorted(v) for k, v in seen.items()}, ensure_ascii=False)


def test_a_row_added_to_a_fragment_and_a_row_removed_are_saved_and_exported(tmp_path: Path) -> None:
    """005 (a 工资 fragment of four rows): a row the reader could not see is typed in, a row is deleted,
    both saved as one correction of the whole table, shown in the history and in the JSON export."""
    from playwright.sync_api import expect

    shutil.copy(ROOT / "eval_sets" / "real" / "005_dyrmt_gongzi_fragment.txt", tmp_path / "005.txt")
    db = tmp_path / "review.db"
    store = Store(db, rereview=reviewer(load_config()))
    import_files(store, [tmp_path / "005.txt"])
    fid = store.triage()[0]["id"]
    before = [i["name"] for i in store.effective_form(fid)["indicators"]]
    assert len(before) == 4
    with review_app(db) as url, browser() as b:
        page = open_page(b, url, "逐表审核")
        settle(page, 1500)
        grid = page.locator("[data-testid='stDataFrame']").last
        grid.scroll_into_view_if_needed()
        grid.hover()
        page.get_by_role("button", name="Add row").last.click()  # the grid's own toolbar
        page.wait_for_timeout(500)
        box = grid.bounding_box()
        for x, text in ((120, "产出指标"), (215, "数量指标"), (330, "补录的指标")):  # the new (fifth) row
            page.mouse.click(box["x"] + x, box["y"] + 35 * 5 + 17)
            page.keyboard.press("Enter")
            page.keyboard.insert_text(text)
            page.keyboard.press("Enter")
            settle(page, 200)  # an edit reruns the script: the next click must not land mid-rerun
        page.mouse.click(box["x"] + 12, box["y"] + 35 * 2 + 17)  # the second row's marker: select the row
        page.keyboard.press("Delete")
        page.wait_for_timeout(300)
        page.get_by_role("button", name="保存更正").click()
        expect(page.get_by_text("已保存 1 处更正")).to_be_visible(timeout=30000)
        page.get_by_text("原文全文（可搜索）").click()  # the whole file, searchable, beside the form
        page.get_by_label("在原文中搜索").fill("足额保障率")
        page.get_by_label("在原文中搜索").press("Enter")
        expect(page.get_by_text("“足额保障率”共 1 处")).to_be_visible(timeout=30000)
        page.locator("[data-testid='stSidebar']").get_by_text("导出", exact=True).click()
        with page.expect_download() as dl:
            page.get_by_role("button", name="导出JSON（已套用更正）").click()
        exported = json.loads(Path(dl.value.path()).read_text(encoding="utf-8"))
    rows = exported["documents"][0]["forms"][0]["indicators"]
    assert [r["name"] for r in rows] == [before[0], *before[2:], "补录的指标"]
    assert rows[-1]["level2"] == "数量指标" and rows[0].get("provenance")  # kept rows keep their sources
    history = store.corrections(fid)
    assert [c["field"] for c in history] == ["indicators"] and history[0]["who"] == "审核员"


def test_one_form_sent_to_the_configured_model_from_its_page(tmp_path: Path) -> None:
    """大模型复核 on real fragment 005, against a local OpenAI-compatible server: the model's answer is
    grounded as in the CLI (a score it made up is listed as unverified and not taken), the reviewer
    sees what it did, and the form's new version is the one stored."""
    from fake_openai import FakeOpenAI, llm_form_of
    from playwright.sync_api import expect

    from extractor.pipeline.process import process_file
    from extractor.store.contract import result_to_contract

    src = tmp_path / "005.txt"
    shutil.copy(ROOT / "eval_sets" / "real" / "005_dyrmt_gongzi_fragment.txt", src)
    parsed = result_to_contract(process_file(src), provenance=False)["forms"][0]

    def answer(messages):  # type: ignore[no-untyped-def]
        d = llm_form_of(parsed)
        d["indicators"][0]["score"] = 17.5  # no such number in the file
        return d

    db = tmp_path / "review.db"
    store = Store(db, rereview=reviewer(load_config()))
    import_files(store, [src])
    fid = store.triage()[0]["id"]
    v0 = store.version(fid)
    with FakeOpenAI(answer) as srv:
        env = {"EXTRACTOR_LLM_BASE_URL": srv.base_url, "EXTRACTOR_LLM_API_KEY": "sk-test-SECRET",
               "EXTRACTOR_LLM_MODEL": "fake-model", "EXTRACTOR_LLM_CACHE_DIR": str(tmp_path / "llm-cache")}
        with review_app(db, env=env) as url, browser() as b:
            page = open_page(b, url, "逐表审核")
            settle(page, 1000)
            expect(page.get_by_text("大模型：fake-model")).to_be_visible(timeout=30000)
            assert "sk-test-SECRET" not in page.content()
            page.get_by_role("button", name="大模型复核本表").click()
            expect(page.get_by_text("大模型复核完成")).to_be_visible(timeout=60000)
            expect(page.get_by_text("未能核实而未采用 1 处")).to_be_visible()
            page.get_by_text("大模型复核（fake-model").click()
            expect(page.get_by_text("指标1 · 得分 = 17.5")).to_be_visible(timeout=30000)
            page.screenshot(path=str(SHOTS / "llm_recheck.png"), full_page=True)
        assert len(srv.requests) == 1
    after = store.effective_form(fid)
    assert store.version(fid) == v0 + 1 and after["llm"]["model"] == "fake-model"
    assert after["indicators"][0]["score"] != 17.5
