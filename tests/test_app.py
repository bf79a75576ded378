"""The review app's logic through Streamlit's AppTest: start on the samples, open the worst form,
correct a value, reject a flag, and find both again in a new session (as after a reload)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from conftest import ROOT
from streamlit.testing.v1 import AppTest

APP = str(ROOT / "review_app.py")


@pytest.fixture()
def app_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    db = tmp_path / "review.db"
    monkeypatch.setenv("EXTRACTOR_DB", str(db))
    return db


def _start() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _finish_import(at: AppTest, db: Path, timeout: float = 180) -> AppTest:
    """The import runs in the background: wait for its record to end, then draw the page again."""
    import time

    deadline = time.time() + timeout
    while time.time() < deadline:
        conn = sqlite3.connect(db)
        row = conn.execute("SELECT status FROM imports ORDER BY id DESC LIMIT 1").fetchone()
        conn.close()
        if row and row[0] != "running":
            break
        time.sleep(0.2)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_starts_on_bundled_samples_ranked_by_risk(app_db: Path) -> None:
    at = _start()
    assert at.header[0].value == "风险排序"
    conn = sqlite3.connect(app_db)
    n = conn.execute("SELECT COUNT(*) FROM forms").fetchone()[0]
    risks = [r[0] for r in conn.execute("SELECT risk FROM forms ORDER BY risk DESC")]
    assert n >= 53 and risks == sorted(risks, reverse=True)
    assert any("共" in c.value for c in at.caption)


def test_open_worst_correct_value_reject_flag_and_reload(app_db: Path) -> None:
    at = _start()
    at.button(key="open_worst").click().run()
    assert not at.exception
    conn = sqlite3.connect(app_db)
    worst_id, worst_name = conn.execute(
        "SELECT f.id, f.project_name FROM forms f JOIN documents d ON d.id=f.document_id "
        "ORDER BY (COALESCE(f.confidence, 1) < 0.7) DESC, f.risk DESC, d.name, f.idx LIMIT 1").fetchone()
    assert at.header[0].value == worst_name
    lead = next(t for t in at.text_input if t.label == "项目负责人")
    lead.set_value("复核更正人")
    next(b for b in at.button if b.label == "保存更正").click().run()
    assert not at.exception, [e.value for e in at.exception]
    first_flag_radio = next(r for r in at.radio if r.label == "处理")
    first_flag_radio.set_value("rejected")
    next(b for b in at.button if b.label == "保存处理意见").click().run()
    assert not at.exception
    # a new session: like closing the browser and coming back
    again = _start()
    again.sidebar.radio[0].set_value("逐表审核").run()
    assert again.header[0].value == worst_name
    assert next(t for t in again.text_input if t.label == "项目负责人").value == "复核更正人"
    assert "驳回" in " ".join(m.value for m in again.markdown)
    row = conn.execute("SELECT who FROM corrections WHERE form_id=?", (worst_id,)).fetchone()
    assert row[0] == "审核员"


def test_filters_search_and_draft_saved(app_db: Path) -> None:
    at = _start()
    at.text_input(key="f_q").set_value("信访").run()
    conn = sqlite3.connect(app_db)
    n = conn.execute("SELECT COUNT(DISTINCT COALESCE(f.copy_key, f.id)) FROM forms f JOIN documents d ON d.id=f.document_id "
                     "WHERE f.project_name LIKE '%信访%' OR d.name LIKE '%信访%'").fetchone()[0]
    assert n >= 5 and any(f"共 {n} 份" in c.value for c in at.caption)
    at.sidebar.radio[0].set_value("问题与建议").run()
    assert not at.exception
    area = at.text_area(key="draft_text")
    assert "一、存在的问题" in area.value or "未发现" in area.value
    area.set_value(area.value + "\n（人工补充的一段）")
    at.button(key="save_draft").click().run()
    again = _start()
    again.sidebar.radio[0].set_value("问题与建议").run()
    assert "（人工补充的一段）" in again.text_area(key="draft_text").value


def test_import_page_reports_bad_files(app_db: Path, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "empty.txt").write_bytes(b"")
    (folder / "ok.txt").write_bytes((ROOT / "samples" / "001_cc20b351adbf8378.txt").read_bytes())
    at = _start()
    at.sidebar.radio[0].set_value("导入").run()
    at.text_input(key="folder").set_value(str(folder))
    at.button(key="do_import").click().run()
    assert not at.exception
    _finish_import(at, app_db)
    report = " ".join(w.value for w in at.warning)
    assert "读取 1 个（5 份自评表" in report and "失败 1 个" in report
    problems = at.dataframe[0].value
    assert problems["文件"].tolist() == ["empty.txt"] and "文件为空" in problems["原因"][0]


def test_import_of_a_scan_reports_its_pages(app_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Importing a scanned file in the app shows page-by-page OCR progress, and the progress hook is
    taken down afterwards (a later CLI run in the same process must not draw into a dead page)."""
    import pymupdf

    from extractor.ocr import pages as ocr_pages

    folder = tmp_path / "in"
    folder.mkdir()
    with pymupdf.open(str(ROOT / "samples" / "001_cc20b351adbf8378.scan.pdf")) as doc:
        doc[0].get_pixmap(dpi=200).save(str(folder / "page.png"))
    seen: list[tuple[int, int]] = []
    real = ocr_pages.set_progress

    def spy(hook):  # type: ignore[no-untyped-def]
        real(None if hook is None else (lambda f, k, n: (seen.append((k, n)), hook(f, k, n))))

    monkeypatch.setattr(ocr_pages, "set_progress", spy)
    at = _start()
    at.sidebar.radio[0].set_value("导入").run()
    at.text_input(key="folder").set_value(str(folder))
    at.button(key="do_import").click().run()
    assert not at.exception, [e.value for e in at.exception]
    _finish_import(at, app_db)
    assert any("导入完成" in s.value and "读取 1 个" in s.value for s in at.success)
    assert seen == [(1, 1)] and ocr_pages._progress is None


def test_low_confidence_ocr_values_are_marked_one_by_one(app_db: Path) -> None:
    """A scanned form whose 实际完成值 and 全年执行数 were read with low OCR confidence: the form view
    names both, marks the indicator row and the funds cell, and offers them first to locate."""
    from extractor.core.document import Cell, Document, Page, Row
    from extractor.core.records import ExtractionResult
    from extractor.reading.extract import extract_forms
    from extractor.review.engine import review_result
    from extractor.store.contract import result_to_contract
    from extractor.store.database import Store

    rows = [["项目名称", "扫描测试项目"], ["主管部门", "某局", "实施单位", "某中心"],
            ["项目资金（万元）", "", "年初预算数", "全年预算数", "全年执行数", "分值", "执行率", "得分"],
            ["", "年度资金总额", "10", "10", "9.8", "10", "98%", "9.8"],
            ["绩效指标", "一级指标", "二级指标", "三级指标", "年度指标值", "实际完成值", "分值", "得分", "偏差原因"],
            ["", "产出指标", "数量指标", "培训人数", "≥30人", "35人", "90", "90", ""], ["总分", "100", "99.8", ""]]
    shaky = {"35人": 0.61, "9.8": 0.7}
    built = [Row([Cell(t, bbox=(10.0, 10.0 * n, 60.0, 10.0 * n + 8), confidence=shaky.get(t, 0.99)) for t in r], 1, n,
                 exact=True) for n, r in enumerate(rows, start=1)]
    forms = extract_forms(Document("scan.png", "image", [Page(1, "", built)]))
    res = review_result(ExtractionResult(source="scan.png", kind="image", forms=forms))
    store = Store(app_db)
    store.save_result(str(app_db.parent / "scan.png"), result_to_contract(res), kind="image")
    store.close()
    at = _start()
    at.sidebar.radio[0].set_value("逐表审核").run()
    assert not at.exception, [e.value for e in at.exception]
    marks = " ".join(e.value for e in at.error)
    assert "OCR识别置信度较低的值" in marks and "指标1 · 实际完成值（0.61）" in marks
    assert "年度资金总额·全年执行数（0.70）" in marks
    locate = next(s for s in at.selectbox if s.label == "定位字段")
    assert locate.value == "funds.total.executed" or locate.value == "indicators.0.actual"
    tables = [d.value for d in at.get("dataframe")]
    funds = next(t for t in tables if "字段" in t.columns)  # the two editable tables (beside the flag list)
    inds = next(t for t in tables if "三级指标" in t.columns)
    checked = funds.set_index("字段")["核对"]
    assert checked["年度资金总额·全年执行数"] == "⚠待核 0.70" and checked["年度资金总额·得分"] == "⚠待核 0.70"
    assert (funds["核对"] != "").sum() == 2  # the funds table now holds 执行率/分值/得分 too
    assert inds["核对"].tolist() == ["⚠实际完成值"]


def test_folder_import_takes_only_readable_user_folders(app_db: Path, tmp_path: Path) -> None:
    at = _start()
    at.sidebar.radio[0].set_value("导入").run()
    (tmp_path / "a.txt").write_text("x", encoding="utf-8")
    for folder, said in (("/etc", "不能导入系统文件夹"), ("/proc/self", "不能导入系统文件夹"),
                         (str(tmp_path / "无此文件夹"), "找不到文件夹"), (str(tmp_path / "a.txt"), "这不是文件夹")):
        at.text_input(key="folder").set_value(folder)
        at.button(key="do_import").click().run()
        assert not at.exception
        assert any(said in e.value for e in at.error), (folder, [e.value for e in at.error])
    conn = sqlite3.connect(app_db)
    assert conn.execute("SELECT COUNT(*) FROM imports WHERE n_inputs > 0 AND id > 1").fetchone()[0] == 0
