"""绩效自评表审核工作台 (Streamlit): triage, confirm, correct and draft; nothing is ever lost.

Run: ``streamlit run review_app.py`` (listens on 127.0.0.1; see .streamlit/config.toml). The database
path comes from ``EXTRACTOR_DB`` (default ``out/review.db``). On first start with an empty database
the bundled samples are imported (``EXTRACTOR_SEED=0`` turns that off). Every save goes to SQLite at once (extractor/store/database.py); no LLM
is called from here.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path

import pandas as pd
import streamlit as st

from extractor.app_support import (
    FIELDS,
    FUND_FIELDS,
    IND_COLS,
    coerce,
    export_contract,
    export_eval_set,
    export_xlsx,
    low_confidence,
    page_text,
    pdf_page_png,
    provenance,
    scan_page_png,
    text_context_html,
    upload_path,
)
from extractor.core.atomic import write_atomic
from extractor.core.config import load_config
from extractor.core.records import LOW_READING_CONFIDENCE
from extractor.ingest import SUPPORTED_TEXT
from extractor.ocr.pages import set_progress as set_ocr_progress
from extractor.pipeline.batch import expand_inputs
from extractor.pipeline.importer import import_files
from extractor.pipeline.process import reviewer
from extractor.review.rulebook import RULES
from extractor.store.database import ConcurrentEditError, Store

ROOT = Path(__file__).resolve().parent
DB_PATH = os.environ.get("EXTRACTOR_DB", str(ROOT / "out" / "review.db"))
SAMPLES = ROOT / "samples"
SEVERITY = {"error": "错误", "warn": "警告", "info": "提示"}
DECISIONS = {"open": "待定", "accepted": "采纳", "rejected": "驳回", "edited": "修改后采纳"}

st.set_page_config(page_title="绩效自评表审核", layout="wide")


@st.cache_resource
def get_store(path: str) -> Store:
    return Store(path, rereview=reviewer(load_config()))


store = get_store(DB_PATH)
if (not store.documents() and SAMPLES.exists() and not st.session_state.get("seeded")
        and os.environ.get("EXTRACTOR_SEED", "1") != "0"):
    with st.spinner("首次启动：正在导入自带样例……"):
        import_files(store, expand_inputs([str(SAMPLES)]))
    st.session_state["seeded"] = True

st.session_state.setdefault("page", "风险排序")
st.session_state.setdefault("form_id", None)
st.session_state.setdefault("who", "审核员")
if "goto_form" in st.session_state:  # navigation requested on the previous run
    st.session_state["form_id"] = st.session_state.pop("goto_form")
    st.session_state["page"] = "逐表审核"

# ---- sidebar -----------------------------------------------------------------------------------
with st.sidebar:
    st.title("绩效自评表审核")
    who = st.text_input("审核人", key="who")
    page = st.radio("页面", ["风险排序", "逐表审核", "问题与建议", "导入", "导出"], key="page")
    st.caption(f"数据库：{DB_PATH}")

rows = store.triage()
frame = pd.DataFrame([dict(r) for r in rows]) if rows else pd.DataFrame()


def open_form(form_id: int) -> None:
    st.session_state["goto_form"] = form_id


# ---- import ------------------------------------------------------------------------------------
def page_import() -> None:
    st.header("导入自评表")
    st.write(f"支持{SUPPORTED_TEXT}；损坏或无法识别的文件会列出原因，其余文件照常处理。"
             "重新导入已修改的文件时，未变化的数值上的更正与处理意见全部保留。")
    up = st.file_uploader("上传文件", accept_multiple_files=True, key="uploads")
    folder = st.text_input("或输入文件夹路径", key="folder")
    if st.button("开始导入", type="primary", key="do_import"):
        files: list[Path] = []
        if up:
            dest = Path(DB_PATH).parent / "uploads"
            dest.mkdir(parents=True, exist_ok=True)
            for f in up:
                data = f.getvalue()
                p = upload_path(dest, f.name, data)  # never outside the data folder, whatever name was sent
                p.parent.mkdir(parents=True, exist_ok=True)
                write_atomic(p, data)
                files.append(p)
        if folder:
            if not Path(folder).exists():
                st.error(f"找不到文件夹：{folder}")
            else:
                files += expand_inputs([folder])
        if not files:
            st.warning("请先上传文件或填写文件夹路径")
            return
        bar = st.progress(0.0, text="处理中……")
        pages = st.empty()  # a scanned file reports its pages: a 300-page scan is minutes of OCR

        def done(i: int, n: int, f: Path, err: str | None) -> None:
            bar.progress(i / n, text=f"{i}/{n}：{f.name}")
            pages.empty()

        def ocr_page(f: str, k: int, total: int) -> None:
            pages.progress(k / total, text=f"正在识别扫描件 {Path(f).name}：第 {k}/{total} 页（已识别的页会缓存，中断后可续）")

        set_ocr_progress(ocr_page)
        try:
            result = import_files(store, files, on_done=done)
        finally:
            set_ocr_progress(None)
        bad = [(f, e) for f, e in result if e]
        st.success(f"已导入 {len(result) - len(bad)} 个文件；失败 {len(bad)} 个。")
        for f, e in bad:
            st.error(e)
    docs = store.documents()
    failed = [d for d in docs if d["status"] != "ok"]
    if failed:
        st.subheader("未能处理的文件")
        st.dataframe(pd.DataFrame([{"文件": d["name"], "原因": d["error"]} for d in failed]), hide_index=True)


# ---- triage ------------------------------------------------------------------------------------
def page_triage() -> None:
    st.header("风险排序")
    if frame.empty:
        st.info("还没有自评表。请在“导入”页导入文件。")
        return
    df = frame.copy()
    c1, c2, c3, c4 = st.columns(4)
    depts = sorted(x for x in df["department"].dropna().unique())
    sel_dept = c1.multiselect("主管部门", depts, key="f_dept")
    codes = sorted(RULES)
    sel_code = c2.multiselect("问题类型", codes, format_func=lambda c: f"{RULES[c].title}（{c}）", key="f_code")
    sel_sev = c3.multiselect("严重程度", list(SEVERITY), format_func=SEVERITY.get, key="f_sev")
    sel_rev = c4.selectbox("复核状态", ["全部", "未复核", "已复核"], key="f_rev")
    c5, c6 = st.columns([1, 2])
    min_gap = c5.number_input("自评高于重算至少（分）", value=0.0, step=1.0, key="f_gap")
    query = c6.text_input("搜索项目名称或文件", key="f_q")
    if sel_dept:
        df = df[df["department"].isin(sel_dept)]
    if sel_code:
        df = df[df["codes"].fillna("").apply(lambda s: any(c in s.split(",") for c in sel_code))]
    if sel_sev:
        df = df[df.apply(lambda r: any((r[f"n_{s}"] or 0) > 0 for s in sel_sev), axis=1)]
    if sel_rev != "全部":
        df = df[df["reviewed"] == (1 if sel_rev == "已复核" else 0)]
    if min_gap > 0:
        df = df[df["gap"].fillna(-1e9) >= min_gap]
    if query:
        df = df[df["project_name"].fillna("").str.contains(query) | df["file"].str.contains(query)]
    view = pd.DataFrame({
        "解析": df["confidence"].fillna(1).map(lambda c: "⚠待核" if c < LOW_READING_CONFIDENCE else ""),
        "风险分": df["risk"], "项目名称": df["project_name"].fillna("（表格残片）"), "主管部门": df["department"],
        "自评总分": df["self_total"], "重算总分": df["recomputed_total"], "差距": df["gap"],
        "错误": df["n_error"], "警告": df["n_warn"], "已复核": df["reviewed"].map({1: "是", 0: "否"}),
        "文件": df["file"]})
    st.caption(f"共 {len(df)} 份（全部 {len(frame)} 份）。点选一行打开该表。")
    event = st.dataframe(view, hide_index=True, on_select="rerun", selection_mode="single-row", key="triage_table",
                         width="stretch")
    picked = event.selection.rows if event is not None and hasattr(event, "selection") else []
    if picked:
        open_form(int(df.iloc[picked[0]]["id"]))
        st.rerun()
    if st.button("打开排在最前的表（先待核，再按风险）", key="open_worst") and len(df):
        open_form(int(df.iloc[0]["id"]))
        st.rerun()
    st.subheader("概览")
    g1, g2, g3 = st.columns(3)
    counts = Counter(c for s in frame["codes"].fillna("") for c in s.split(",") if c)
    g1.caption("各类问题涉及的表数")
    g1.bar_chart(pd.Series({RULES[c].title if c in RULES else c: n for c, n in counts.most_common(12)}), horizontal=True)
    g2.caption("各主管部门的表数与平均风险分")
    g2.bar_chart(frame.groupby(frame["department"].fillna("（无）"))["risk"].mean())
    g3.caption("自评总分与重算总分")
    g3.scatter_chart(frame.rename(columns={"self_total": "自评总分", "recomputed_total": "重算总分"}),
                     x="自评总分", y="重算总分")


# ---- one form ----------------------------------------------------------------------------------
def _source_view(form: dict, doc_path: str, field: str) -> None:
    ref = provenance(form, field)
    if not ref:
        st.caption("该值没有来源位置记录。")
        return
    st.caption(f"第{ref.get('page', 1)}页 · 第{ref.get('line', '?')}行"
               + (f" · OCR置信度 {ref['confidence']:.2f}" if ref.get("confidence") is not None else ""))
    if ref.get("confidence") is not None and Path(doc_path).exists():  # read by OCR: show the scan
        st.image(scan_page_png(doc_path, ref.get("page", 1), ref.get("bbox")), width="stretch")
        return
    if doc_path.lower().endswith(".pdf") and Path(doc_path).exists():
        st.image(pdf_page_png(doc_path, ref.get("page", 1), ref.get("bbox")), width="stretch")
        return
    text = page_text(doc_path, ref.get("page", 1))
    if text and ref.get("start") is not None:
        st.html(text_context_html(text, ref["start"], ref["end"]))
    else:
        st.caption("原文件不可用，无法显示上下文。")


def page_form() -> None:
    ids = [int(x) for x in frame["id"]] if not frame.empty else []
    if not ids:
        st.info("还没有自评表。")
        return
    fid = st.session_state.get("form_id") or ids[0]
    if fid not in ids:
        fid = ids[0]
    pos = ids.index(fid)
    nav1, nav2, nav3 = st.columns([1.4, 1.4, 5])
    if nav1.button("← 上一份", key="prev", shortcut="Alt+ArrowLeft", disabled=pos == 0):
        open_form(ids[pos - 1])
        st.rerun()
    if nav2.button("下一份 →", key="next", shortcut="Alt+ArrowRight", disabled=pos == len(ids) - 1):
        open_form(ids[pos + 1])
        st.rerun()
    nav3.caption(f"第 {pos + 1} / {len(ids)} 份（按风险排序）；快捷键 Alt+← / Alt+→")
    form = store.effective_form(fid)
    _, version, reviewed = store.raw_form(fid)
    doc = store.conn.execute("SELECT d.path, d.name FROM forms f JOIN documents d ON d.id=f.document_id WHERE f.id=?",
                             (fid,)).fetchone()
    st.header(form.get("project_name") or "（表格残片）")
    if "flash" in st.session_state:
        st.success(st.session_state.pop("flash"))
    rs = form.get("rescore") or {}
    m1, m2, m3, m4 = st.columns(4)
    m1.metric("风险分", form.get("risk"))
    m2.metric("自评总分", rs.get("self_total"))
    m3.metric("重算总分", rs.get("recomputed_total"), delta=None if rs.get("gap") is None else -rs["gap"])
    m4.metric("已复核", "是" if reviewed else "否")
    if (form.get("confidence") or 1) < LOW_READING_CONFIDENCE or form.get("warnings"):
        st.warning("需重点核对（解析置信度较低）：" + "；".join(form.get("warnings") or []))
    low = low_confidence(form)
    if low:
        st.error(f"OCR识别置信度较低的值 {len(low)} 处，已在下方以“⚠待核”标出，请对照左侧原件逐一核对："
                 + "；".join(f"{_field_label(k)}（{v:.2f}）" for k, v in low.items()))
    llm = form.get("llm") or {}
    if llm.get("unverified") or llm.get("disagreements") or llm.get("filled"):
        with st.expander(f"大模型复核（{llm.get('model')}，{llm.get('prompt')}）：补充 {len(llm.get('filled') or [])} 处，"
                         f"不一致 {len(llm.get('disagreements') or [])} 处，未核实 {len(llm.get('unverified') or [])} 处",
                         expanded=bool(llm.get("unverified"))):
            for u in llm.get("unverified") or []:
                st.error(f"未核实（原文中找不到，未采用）：{u['field']} = {u['value']}")
            for d in llm.get("disagreements") or []:
                st.warning(f"不一致：{d['field']}：规则解析“{d.get('parser')}”，大模型“{d.get('llm')}”（已保留规则解析）")
            for f_ in llm.get("filled") or []:
                st.info(f"由大模型补充（已在原文中核实）：{f_['field']} = {f_['value']}")
    stale = [c for c in store.corrections(fid) if c["stale"] and c["active"]]
    if stale:
        st.warning("原文件已更新，以下更正所针对的原值已变化，未自动套用，请重新确认：" +
                   "；".join(f"{c['field']}（原更正：{json.loads(c['new_value'])}）" for c in stale))
    left, right = st.columns([5, 6])
    with right:
        st.subheader("抽取结果（可直接修改）")
        edits: dict[str, object] = {}
        with st.form(key=f"edit_{fid}_{version}"):
            for key, label0 in FIELDS:
                val = form.get(key)
                label = f"{label0} ⚠待核（OCR置信度{low[key]:.2f}）" if key in low else label0
                new = st.text_area(label, "" if val is None else str(val), key=f"{fid}_{key}",
                                   height=68 if key.startswith("goal") else None) if key.startswith("goal") else \
                    st.text_input(label, "" if val is None else str(val), key=f"{fid}_{key}")
                if coerce(key, new) != val:
                    edits[key] = coerce(key, new)
            funds_df = pd.DataFrame([{"字段": lab, "值": "" if (v := _get(form, k)) is None else str(v),
                                      "核对": f"⚠待核 {low[k]:.2f}" if k in low else ""}
                                     for k, lab in FUND_FIELDS])
            funds_new = st.data_editor(funds_df, key=f"funds_{fid}_{version}", disabled=["字段", "核对"],
                                       hide_index=True)
            for (k, _lab), val in zip(FUND_FIELDS, funds_new["值"]):
                if coerce(k, val) != _get(form, k):
                    edits[k] = coerce(k, val)
            inds = form.get("indicators") or []
            ind_df = pd.DataFrame([{lab: "" if ind.get(k) is None else str(ind.get(k)) for k, lab in IND_COLS}
                                   | {"核对": "、".join(f"⚠{lab}" for k, lab in IND_COLS if f"indicators.{i}.{k}" in low)}
                                   for i, ind in enumerate(inds)])
            st.caption("绩效指标（“核对”列标出OCR置信度低、须对照原件核对的单元格）")
            ind_new = st.data_editor(ind_df, key=f"inds_{fid}_{version}", hide_index=False, width="stretch",
                                     disabled=["核对"])
            for i, ind in enumerate(inds):
                for k, lab in IND_COLS:
                    val = ind_new.iloc[i][lab] if i < len(ind_new) else None
                    if coerce(k, val) != ind.get(k):
                        edits[f"indicators.{i}.{k}"] = coerce(k, val)
            saved = st.form_submit_button("保存更正", type="primary")
        if saved:
            try:
                store.save_corrections(fid, version, edits, who=who)
                st.session_state["flash"] = f"已保存 {len(edits)} 处更正。"
                st.rerun()
            except ConcurrentEditError as exc:
                st.error(str(exc))
        if st.button("标记为已复核" if not reviewed else "取消“已复核”", key=f"rev_{fid}"):
            try:
                store.set_reviewed(fid, version, not reviewed)
                st.rerun()
            except ConcurrentEditError as exc:
                st.error(str(exc))
        hist = store.corrections(fid)
        if hist:
            with st.expander(f"更正记录（{len(hist)}）"):
                st.dataframe(pd.DataFrame([{"字段": c["field"], "原值": json.loads(c["old_value"]),
                                            "新值": json.loads(c["new_value"]), "更正人": c["who"], "时间": c["at"],
                                            "状态": "已失效" if not c["active"] else ("原值已变" if c["stale"] else "生效")}
                                           for c in hist]), hide_index=True)
    with left:
        st.subheader("原文")
        choices = [k for k, _ in FIELDS] + [f"indicators.{i}.{k}" for i in range(len(form.get("indicators") or []))
                                             for k in ("name", "target", "actual", "weight", "score")]
        choices = list(low) + [c for c in choices if c not in low]  # values to check first
        field = st.selectbox("定位字段", choices, key=f"loc_{fid}",
                             format_func=lambda k: _field_label(k) + (" ⚠待核" if k in low else ""))
        _source_view(form, doc["path"], field)
        st.subheader("审核意见")
        for n, fl in enumerate(form.get("flags") or []):
            _flag_box(fid, version, n, fl, who)


def _get(form: dict, path: str):  # type: ignore[no-untyped-def]
    from extractor.store.contract import get_path
    return get_path(form, path)


def _field_label(path: str) -> str:
    labels = dict(FIELDS) | {k: lab for k, lab in IND_COLS}
    parts = path.split(".")
    if parts[0] == "indicators":
        return f"指标{int(parts[1]) + 1} · {labels.get(parts[2], parts[2])}"
    if parts[0] == "funds" and len(parts) == 3:
        from extractor.core.field_names import FUND_COLUMNS, FUND_ROWS
        return dict(FUND_FIELDS).get(path) or f"{FUND_ROWS.get(parts[1], parts[1])}·{FUND_COLUMNS.get(parts[2], parts[2])}"
    return labels.get(path, path)


def _flag_box(fid: int, version: int, n: int, fl: dict, who: str) -> None:
    title = RULES[fl["code"]].title if fl["code"] in RULES else fl["code"]
    where = "" if fl.get("indicator") is None else f" · 指标{fl['indicator'] + 1}"
    decision = fl.get("decision", "open")
    with st.container(border=True):
        st.markdown(f"**【{SEVERITY.get(fl['severity'], fl['severity'])}】{title}**{where} — {DECISIONS.get(decision)}")
        st.write(fl.get("message"))
        if fl.get("evidence"):
            st.caption(f"原文：{fl['evidence']}")
        if fl.get("suggestion"):
            st.caption(f"建议：{fl['suggestion']}")
        with st.form(key=f"flag_{fid}_{n}_{version}"):
            choice = st.radio("处理", list(DECISIONS), index=list(DECISIONS).index(decision), horizontal=True,
                              format_func=DECISIONS.get, key=f"d_{fid}_{n}")
            comment = st.text_input("意见", fl.get("comment") or "", key=f"c_{fid}_{n}")
            message = st.text_area("修改后的说明（选“修改后采纳”时填写）", "", key=f"m_{fid}_{n}", height=68)
            if st.form_submit_button("保存处理意见"):
                try:
                    store.decide_flag(fid, version, fl, choice, comment, message if choice == "edited" else "", who)
                    st.session_state["flash"] = f"已保存处理意见：{DECISIONS[choice]}。"
                    st.rerun()
                except ConcurrentEditError as exc:
                    st.error(str(exc))


# ---- draft and export ------------------------------------------------------------------------
def page_draft() -> None:
    from extractor.draft.sections import draft_sections, to_markdown
    from extractor.draft.word import markdown_to_docx

    st.header("问题与建议草稿")
    scope = st.radio("范围", ["全部自评表", "已复核的自评表"], horizontal=True, key="draft_scope")
    depts = sorted({r["department"] for r in rows if r["department"]})
    pick_dept = st.multiselect("只起草这些主管部门（不选则全部）", depts, key="draft_depts")
    candidates = [r for r in rows if (scope == "全部自评表" or r["reviewed"])
                  and (not pick_dept or r["department"] in pick_dept)]
    pick_forms = st.multiselect("只起草这些项目（不选则上述范围内全部）", [r["id"] for r in candidates],
                                format_func=lambda i: next(r["project_name"] or "（表格残片）" for r in candidates
                                                           if r["id"] == i), key="draft_forms")
    accepted = st.checkbox("只用已采纳（含修改后采纳）的审核意见", value=True, key="draft_accepted")
    ids = pick_forms or [r["id"] for r in candidates]
    st.caption(f"按 {len(ids)} 份自评表起草。")
    forms = [store.effective_form(i) for i in ids]
    intro, problems, advice, annex = draft_sections(forms, accepted)
    generated = to_markdown(intro, problems, advice, annex)
    saved = store.load_draft("default")
    text = st.text_area("草稿（可直接修改，保存后下次打开仍在）", saved or generated, height=480, key="draft_text")
    c1, c2, c3, c4 = st.columns(4)
    if c1.button("保存草稿", key="save_draft"):
        store.save_draft("default", text, who)
        st.success("已保存。")
    if c2.button("按当前意见重新生成", key="regen_draft"):
        store.save_draft("default", generated, who)
        st.rerun()
    c3.download_button("下载 Markdown", text.encode("utf-8"), file_name="问题与建议.md", key="dl_md")
    c4.download_button("下载 Word", markdown_to_docx(text), file_name="问题与建议.docx", key="dl_docx")


def page_export() -> None:
    st.header("导出")
    st.download_button("导出JSON（已套用更正）", json.dumps(export_contract(store), ensure_ascii=False, indent=1).encode("utf-8"),
                       file_name="审核结果.json", key="dl_json")
    st.download_button("导出Excel工作簿", export_xlsx(store), file_name="审核结果.xlsx", key="dl_xlsx")
    target = st.text_input("评测集文件夹", str(ROOT / "eval_sets" / "reviewed"), key="eval_dir")
    if st.button("把已复核的表写入评测集", key="to_eval"):
        written = export_eval_set(store, Path(target))
        st.success(f"已写出 {len(written)} 个标准答案文件到 {target}")


{"风险排序": page_triage, "逐表审核": page_form, "问题与建议": page_draft, "导入": page_import,
 "导出": page_export}[page]()
