"""The review database: corrections survive re-extraction, concurrent tabs are refused, and a
process killed in the middle of a save leaves a consistent database with every confirmed save."""

from __future__ import annotations

import json
import os
import re
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
    with pytest.raises(ConcurrentEditError, match="他人已修改") as refused:
        b.save_corrections(fid, vb, {"project_lead": "赵六"}, who="tab-b")
    assert b.effective_form(fid)["project_lead"] == "王五"
    assert [(c["target"], json.loads(c["new_value"]), c["who"]) for c in refused.value.changes] == [
        ("project_lead", "王五", "tab-a")]  # the diff of the other save travels with the refusal
    assert refused.value.version == va + 1


def _forms_text(tmp_path: Path) -> list[str]:
    """The sample's five forms as separate texts (each starts at its title line)."""
    text = SAMPLE.read_text(encoding="utf-8")
    starts = [i for i in range(len(text)) if text.startswith("项目支出绩效自评表", i)]
    cut = [text.rfind("\n", 0, i) + 1 for i in starts]
    return [text[a:b] for a, b in zip(cut, cut[1:] + [len(text)])]


def test_reimport_matches_forms_by_identity_never_by_position(tmp_path: Path) -> None:
    parts = _forms_text(tmp_path)
    assert len(parts) == 5
    src = _copy(tmp_path, "".join(parts))
    store = Store(tmp_path / "review.db", rereview=REREVIEW)
    import_files(store, [src])
    rows = {r["project_name"]: r["id"] for r in store.triage()}
    names = [store.raw_form(i)[0]["project_name"] for i in sorted(rows.values())]
    first, second = names[0], names[1]
    store.save_corrections(rows[first], 0, {"project_lead": "甲的更正"}, who="甲")
    store.save_corrections(rows[second], 0, {"phone": "000-1"}, who="甲")
    # the department sends the file again: forms reordered, the first one dropped
    src.write_text("".join(parts[4:] + parts[2:4] + parts[1:2]), encoding="utf-8")
    import_files(store, [src])
    live = {r["project_name"]: r["id"] for r in store.triage()}
    assert first not in live and len(live) == 4
    assert store.effective_form(live[second])["phone"] == "000-1" and live[second] == rows[second]
    assert all(store.effective_form(i)["project_lead"] != "甲的更正" for i in live.values())
    retired = store.retired_forms()  # the dropped form carried a correction: kept, not deleted
    assert [r["project_name"] for r in retired] == [first]
    assert store.effective_form(retired[0]["id"])["project_lead"] == "甲的更正"


def test_a_same_name_upload_is_another_document(tmp_path: Path) -> None:
    from extractor.app_support import upload_path

    parts = _forms_text(tmp_path)
    dest = tmp_path / "uploads"
    a = upload_path(dest, "自评表.txt", parts[0].encode())
    b = upload_path(dest, "自评表.txt", parts[1].encode())
    for p, t in ((a, parts[0]), (b, parts[1])):
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(t, encoding="utf-8")
    store = Store(tmp_path / "review.db", rereview=REREVIEW)
    import_files(store, [a])
    fid = store.triage()[0]["id"]
    store.save_corrections(fid, 0, {"project_lead": "甲部门更正"}, who="甲")
    import_files(store, [b])
    assert len(store.documents()) == 2 and len(store.triage()) == 2
    assert store.effective_form(fid)["project_lead"] == "甲部门更正"
    other = next(r["id"] for r in store.triage() if r["id"] != fid)
    assert not store.corrections(other)


def test_a_correction_that_changes_a_flags_evidence_keeps_its_decision_for_reconfirmation(tmp_path: Path) -> None:
    from extractor.store.contract import flag_keys

    store = Store(tmp_path / "review.db", rereview=REREVIEW)
    import_files(store, [_copy(tmp_path)])
    for row in store.triage():
        form = store.effective_form(row["id"])
        vague = [(k, f) for f, k in zip(form["flags"], flag_keys(form["flags"]))
                 if f["code"] == "vague-target" and f.get("evidence")]
        if vague:
            break
    fid, (key, flag) = row["id"], vague[0]
    v = store.decide_flag(fid, row["version"], key, "edited", comment="口径", message="修改后的说明", who="甲")
    i = flag["indicator"]
    # the reviewer corrects the quoted target, but it stays vague: same rule, same indicator, new evidence
    old = form["indicators"][i]["target"]
    store.save_corrections(fid, v, {f"indicators.{i}.target": old + "（较好）"}, who="甲")
    after = store.effective_form(fid)
    same = [f for f, k in zip(after["flags"], flag_keys(after["flags"])) if k == key]
    assert same and same[0]["evidence"] != flag["evidence"]
    assert same[0]["decision"] == "edited" and same[0]["message"] == "修改后的说明" and same[0]["reconfirm"]


def test_four_threads_sharing_one_store_get_no_raw_sqlite_errors(tmp_path: Path) -> None:
    import threading

    store = Store(tmp_path / "review.db", rereview=REREVIEW)
    import_files(store, [_copy(tmp_path)])
    ids = [r["id"] for r in store.triage()][:2]
    outcome: dict[str, int] = {"saved": 0, "refused": 0, "other": 0}
    confirmed: list[tuple[int, str]] = []
    lock = threading.Lock()

    def worker(n: int) -> None:
        for k in range(150):
            fid = ids[k % 2]
            value = f"线程{n}-{k}"
            try:
                store.save_corrections(fid, store.version(fid), {"project_lead": value}, who=f"t{n}")
                key = "saved"
                with lock:
                    confirmed.append((fid, value))
            except ConcurrentEditError:
                key = "refused"
            except Exception:  # noqa: BLE001 - counted: the test asserts there are none
                key = "other"
            with lock:
                outcome[key] += 1

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcome["other"] == 0 and outcome["saved"] + outcome["refused"] == 600 and outcome["saved"] > 0
    saved = {(r[0], json.loads(r[1])) for r in store.conn.execute("SELECT form_id, new_value FROM corrections")}
    assert set(confirmed) <= saved


def test_text_in_a_number_field_is_refused_with_a_chinese_message(tmp_path: Path) -> None:
    from extractor.store.contract import parse_edit
    from extractor.store.database import InvalidEditError

    assert parse_edit("total_score", "95分") == (None, "“95分”不是数字：此处只填数字（如 95），不带单位或文字")
    assert parse_edit("total_score", " ９５.５ ") == (95.5, None)
    assert parse_edit("funds.total.executed", "1,234.5") == (1234.5, None)
    assert parse_edit("project_lead", "95分") == ("95分", None) and parse_edit("year", "") == (None, None)
    store = Store(tmp_path / "review.db", rereview=REREVIEW)
    import_files(store, [_copy(tmp_path)])
    fid = store.triage()[0]["id"]
    with pytest.raises(InvalidEditError) as bad:
        store.save_corrections(fid, 0, {"total_score": "95分", "project_lead": "有效"}, who="甲")
    assert list(bad.value.errors) == ["total_score"] and store.version(fid) == 0 and not store.corrections(fid)


def test_every_import_is_recorded_with_each_inputs_outcome(tmp_path: Path) -> None:
    from extractor.pipeline.importer import run_import

    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "prose.txt").write_text("本文件只有一段说明文字，没有自评表。", encoding="utf-8")
    store = Store(tmp_path / "review.db", rereview=REREVIEW)
    iid = run_import(store, [tmp_path / "empty.txt", tmp_path / "prose.txt", _copy(tmp_path)],
                     skipped=[(tmp_path / "old.doc", "旧版 Word 格式")])
    items = [(r["name"], r["state"], r["forms"]) for r in store.import_items(iid)]
    assert items == [("empty.txt", "failed", 0), ("prose.txt", "empty", 0), ("form.txt", "ok", 5),
                     ("old.doc", "skipped", None)]
    assert store.imports()[0]["status"] == "done"
    assert {d["name"] for d in store.problem_documents()} == {"empty.txt", "prose.txt"}


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
    assert wb.sheetnames == ["自评表", "指标", "问题", "更正记录", "操作记录"]
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
    fid = next(r["id"] for r in store.triage(copies=True) if r["file"] == "f.pdf")
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


def test_the_workbook_is_chinese_with_funds_frozen_filtered_and_the_audit_trail(tmp_path: Path) -> None:
    import io

    import openpyxl

    from extractor.app_support import export_xlsx

    store = Store(tmp_path / "review.db", rereview=REREVIEW)
    import_files(store, [_copy(tmp_path)])
    fid = store.triage()[0]["id"]
    v = store.save_corrections(fid, store.raw_form(fid)[1], {"indicators.0.target": "≥20件"}, who="张三")
    from extractor.store.contract import flag_keys

    key = flag_keys(store.effective_form(fid)["flags"])[0]
    v = store.decide_flag(fid, v, key, "rejected", "口径已说明", who="张三")
    store.decide_flag(fid, v, key, "accepted", who="李四")
    assert [h["decision"] for h in store.decision_history(fid)[key]] == ["rejected", "accepted"]
    wb = openpyxl.load_workbook(io.BytesIO(export_xlsx(store)))
    assert wb.sheetnames == ["自评表", "指标", "问题", "更正记录", "操作记录"]
    for ws in wb.worksheets:
        assert ws.freeze_panes == "A2" and ws.auto_filter.ref and ws.cell(1, 1).font.bold
    head = [c.value for c in wb["自评表"][1]]
    assert "年度资金总额·全年预算数" in head and "年度资金总额·得分" in head
    assert wb["自评表"].column_dimensions["B"].width >= 20
    severities = {r[3].value for r in wb["问题"].iter_rows(min_row=2)}
    assert severities and severities <= {"错误", "警告", "提示"}
    assert not [r for r in wb["问题"].iter_rows(min_row=2) if re.fullmatch(r"[a-z-]+", str(r[2].value))]
    fields = [r[2].value for r in wb["更正记录"].iter_rows(min_row=2)]
    assert fields == ["指标1 · 年度指标值"]
    audit = [(r[3].value, r[6].value, r[7].value) for r in wb["操作记录"].iter_rows(min_row=2)]
    assert ("处理意见", "驳回（口径已说明）", "张三") in audit and ("处理意见", "采纳", "李四") in audit
