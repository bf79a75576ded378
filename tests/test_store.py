"""The review database: corrections survive re-extraction, concurrent tabs are refused, and a
process killed in the middle of a save leaves a consistent database with every confirmed save."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT

from extractor.core.config import load_config
from extractor.pipeline.importer import import_files
from extractor.pipeline.process import reviewer
from extractor.store.contract import get_path
from extractor.store.database import ConcurrentEditError, Store

REREVIEW = reviewer(load_config())

SAMPLE = ROOT / "samples" / "001_cc20b351adbf8378.txt"


def _copy(tmp_path: Path, text: str | None = None) -> Path:
    p = tmp_path / "form.txt"
    p.write_text(text if text is not None else SAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    return p


def test_import_triage_and_correction_with_history(tmp_path: Path) -> None:
    store = Store(tmp_path / "review.db", rereview=REREVIEW)
    assert import_files(store, [_copy(tmp_path)])[0][1] is None
    rows = store.triage()
    assert len(rows) == 5 and rows[0]["risk"] >= rows[-1]["risk"]
    fid = rows[0]["id"]
    form = store.effective_form(fid)
    v = store.raw_form(fid)[1]
    v = store.save_corrections(fid, v, {"indicators.0.target": "≥20件"}, who="张三")
    eff = store.effective_form(fid)
    assert eff["indicators"][0]["target"] == "≥20件"
    assert not [f for f in eff["flags"] if f["code"] == "vague-target" and f["indicator"] == 0]
    hist = store.corrections(fid)
    assert hist[0]["who"] == "张三" and json.loads(hist[0]["old_value"]) == form["indicators"][0]["target"]


def test_reimport_keeps_corrections_on_unchanged_values_and_marks_changed_ones(tmp_path: Path) -> None:
    src = _copy(tmp_path)
    store = Store(tmp_path / "review.db", rereview=REREVIEW)
    import_files(store, [src])
    fid = store.triage()[0]["id"]
    name = store.raw_form(fid)[0]["project_name"]
    flag = store.effective_form(fid)["flags"][0]
    v = store.save_corrections(fid, 0, {"goal_actual": "人工更正的完成情况", "phone": "12345678"}, who="李四")
    store.decide_flag(fid, v, flag, "rejected", comment="不成立")
    import_files(store, [src])  # the same file again
    fid2 = next(r["id"] for r in store.triage() if r["project_name"] == name)
    eff = store.effective_form(fid2)
    assert eff["goal_actual"] == "人工更正的完成情况" and eff["phone"] == "12345678"
    assert next(f for f in eff["flags"] if f["code"] == flag["code"] and f["indicator"] == flag["indicator"]
                )["decision"] == "rejected"
    # the source's goal changes: that correction goes stale (kept in history), the other stays
    changed = src.read_text(encoding="utf-8").replace(get_path(store.raw_form(fid2)[0], "goal_actual")[:10],
                                                      "来源已修改", 1)
    src.write_text(changed, encoding="utf-8")
    import_files(store, [src])
    eff = store.effective_form(fid2)
    assert eff["goal_actual"].startswith("来源已修改") and eff["phone"] == "12345678"
    stale = [r for r in store.corrections(fid2) if r["stale"]]
    assert [r["field"] for r in stale] == ["goal_actual"]


def test_second_tab_cannot_overwrite_silently(tmp_path: Path) -> None:
    db = tmp_path / "review.db"
    a, b = Store(db, rereview=REREVIEW), Store(db, rereview=REREVIEW)
    import_files(a, [_copy(tmp_path)])
    fid = a.triage()[0]["id"]
    va = a.raw_form(fid)[1]
    vb = b.raw_form(fid)[1]
    a.save_corrections(fid, va, {"project_lead": "王五"}, who="tab-a")
    with pytest.raises(ConcurrentEditError, match="其他窗口"):
        b.save_corrections(fid, vb, {"project_lead": "赵六"}, who="tab-b")
    assert b.effective_form(fid)["project_lead"] == "王五"


CHILD = r"""
import sys, json
sys.path.insert(0, sys.argv[3])
from extractor.store.database import Store
s = Store(sys.argv[1])
fid = int(sys.argv[2])
v = s.raw_form(fid)[1]
for k in range(100000):
    v = s.save_corrections(fid, v, {"goal_expected": f"第{k}次更正"}, who="kill-test")
    print(k, flush=True)
"""


def test_killed_mid_save_leaves_consistent_db_with_every_confirmed_save(tmp_path: Path) -> None:
    db = tmp_path / "review.db"
    store = Store(db, rereview=REREVIEW)
    import_files(store, [_copy(tmp_path)])
    fid = store.triage()[0]["id"]
    store.close()
    p = subprocess.Popen([sys.executable, "-c", CHILD, str(db), str(fid), str(ROOT)], stdout=subprocess.PIPE,
                         text=True)
    confirmed = -1
    deadline = time.time() + 60
    while time.time() < deadline:
        line = p.stdout.readline()
        if line:
            confirmed = int(line.split()[0])
        if confirmed >= 30:
            break
    os.kill(p.pid, signal.SIGKILL)  # in the middle of whatever save comes next
    p.wait()
    assert confirmed >= 30
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    texts = {r[0] for r in conn.execute("SELECT new_value FROM corrections WHERE form_id=?", (fid,))}
    for k in range(confirmed + 1):
        assert json.dumps(f"第{k}次更正", ensure_ascii=False) in texts
    conn.close()
    s2 = Store(db, rereview=REREVIEW)  # reopens and recovers the WAL
    assert s2.effective_form(fid)["goal_expected"].startswith("第")
    assert len([r for r in s2.corrections(fid) if r["active"]]) == 1


def test_bad_file_is_recorded_and_batch_goes_on(tmp_path: Path) -> None:
    (tmp_path / "empty.txt").write_bytes(b"")
    store = Store(tmp_path / "review.db", rereview=REREVIEW)
    out = import_files(store, [tmp_path / "empty.txt", _copy(tmp_path)])
    assert out[0][1] and "文件为空" in out[0][1] and out[1][1] is None
    docs = {d["name"]: d for d in store.documents()}
    assert docs["empty.txt"]["status"] == "failed" and len(store.triage()) == 5


def test_exports_apply_corrections_and_grow_eval_sets(tmp_path: Path) -> None:
    import openpyxl

    from extractor.app_support import export_contract, export_eval_set, export_xlsx

    store = Store(tmp_path / "review.db", rereview=REREVIEW)
    import_files(store, [_copy(tmp_path)])
    fid = store.triage()[0]["id"]
    v = store.save_corrections(fid, 0, {"project_lead": "导出测试"}, who="甲")
    store.set_reviewed(fid, v)
    data = export_contract(store)
    forms = data["documents"][0]["forms"]
    assert any(f["project_lead"] == "导出测试" for f in forms)
    import io
    wb = openpyxl.load_workbook(io.BytesIO(export_xlsx(store)))
    assert wb.sheetnames == ["自评表", "指标", "问题", "更正记录"]
    assert wb["更正记录"].max_row == 2 and wb["问题"].max_row > 1
    written = export_eval_set(store, tmp_path / "eval")
    gold = json.loads(written[0].read_text(encoding="utf-8"))
    assert len(gold["forms"]) == 1 and gold["forms"][0]["project_lead"] == "导出测试"
    from evalkit.metrics import score
    assert score(gold, {"forms": [store.effective_form(fid)]}).field_accuracy == 1.0


def test_source_views_highlight_the_value(tmp_path: Path) -> None:
    from evalkit.fixtures import render_pdf
    from extractor.app_support import page_text, pdf_page_png, provenance, text_context_html

    store = Store(tmp_path / "review.db", rereview=REREVIEW)
    src = _copy(tmp_path)
    import_files(store, [src])
    form = store.effective_form(store.triage()[0]["id"])
    ref = provenance(form, "indicators.0.target")
    text = page_text(str(src.resolve()), ref["page"])
    html = text_context_html(text, ref["start"], ref["end"])
    assert f"<mark style='background:#ffd54f'>{form['indicators'][0]['target']}</mark>" in html
    gold = json.loads((ROOT / "eval_sets" / "seeds" / "001_cc20b351adbf8378.gold.json").read_text(encoding="utf-8"))
    pdf = tmp_path / "f.pdf"
    render_pdf(gold["forms"][:1], pdf)
    import_files(store, [pdf])
    fid = next(r["id"] for r in store.triage() if r["file"] == "f.pdf")
    pform = store.effective_form(fid)
    pref = provenance(pform, "indicators.0.name")
    assert pref["bbox"] and pref["page"] == 1
    png = pdf_page_png(str(pdf), pref["page"], pref["bbox"])
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10000


def test_low_confidence_forms_first_and_old_databases_gain_the_column(tmp_path: Path) -> None:
    import json as _json
    import sqlite3 as _sqlite3

    from extractor.store.migrations import m001_initial

    db = tmp_path / "old.sqlite"
    old = _sqlite3.connect(db)
    m001_initial(old)  # a database made before the confidence column existed
    old.execute("INSERT INTO documents(path,name,status,imported_at) VALUES('a','a.txt','ok','2026')")
    for idx, (risk, conf) in enumerate(((9.0, 0.95), (1.0, 0.4), (5.0, 0.9))):
        old.execute("INSERT INTO forms(document_id,idx,project_name,data,risk) VALUES(1,?,?,?,?)",
                    (idx, f"p{idx}", _json.dumps({"confidence": conf}), risk))
    old.commit()
    old.close()
    store = Store(db, rereview=REREVIEW)
    names = [r["project_name"] for r in store.triage()]
    assert names == ["p1", "p0", "p2"]  # the form read with low confidence first, then by risk
    store.close()


OLD_DB = ROOT / "tests" / "data" / "review_db_v0.sqlite"  # made by the release before schema versions


def test_a_database_from_an_older_release_is_migrated_and_keeps_the_work(tmp_path: Path) -> None:
    import shutil

    from extractor.store.migrations import MIGRATIONS

    db = tmp_path / "review.db"
    shutil.copy(OLD_DB, db)
    before = sqlite3.connect(db)
    assert before.execute("PRAGMA user_version").fetchone()[0] == 0
    assert "confidence" not in {r[1] for r in before.execute("PRAGMA table_info(forms)")}
    before.close()
    store = Store(db, rereview=REREVIEW)
    assert store.conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    rows = store.triage()
    assert len(rows) == 5 and all(r["confidence"] is not None for r in rows)  # filled from each form's JSON
    fixed = [r["id"] for r in rows if store.corrections(r["id"])]
    assert len(fixed) == 1
    form = store.effective_form(fixed[0])
    assert form["project_lead"] == "王五"  # the old correction still applies
    assert any(f.get("decision") == "edited" and f.get("message") == "修改后的意见" for f in form["flags"])
    assert store.load_draft("default").endswith("旧草稿")
    store.close()
    again = Store(db, rereview=REREVIEW)  # opening a migrated database changes nothing
    assert again.conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    assert len(again.triage()) == 5
    again.close()


def test_a_database_from_a_newer_release_is_refused_untouched(tmp_path: Path) -> None:
    from extractor.core.errors import ExtractorError

    db = tmp_path / "review.db"
    Store(db).close()
    c = sqlite3.connect(db)
    c.execute("PRAGMA user_version=99")
    c.close()
    with pytest.raises(ExtractorError, match="升级本工具"):
        Store(db)
    c = sqlite3.connect(db)
    assert c.execute("PRAGMA user_version").fetchone()[0] == 99
    c.close()


def test_an_upload_is_kept_inside_the_data_folder_whatever_name_the_browser_sent(tmp_path: Path) -> None:
    from extractor.app_support import upload_path

    dest = tmp_path / "data" / "uploads"
    for name in ("../../x.txt", "/etc/passwd", "..\\..\\win.txt", "C:\\Users\\a\\自评表.txt", "..", "", "a\x00b.txt"):
        p = upload_path(dest, name, b"form")
        assert dest.resolve() in p.parents, name
    a = upload_path(dest, "自评表.txt", "甲部门".encode())
    b = upload_path(dest, "自评表.txt", "乙部门".encode())
    assert a != b and a.name == b.name == "自评表.txt"  # one name, two documents
    assert upload_path(dest, "自评表.txt", "甲部门".encode()) == a  # the same file again is the same document
