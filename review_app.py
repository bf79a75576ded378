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
from functools import partial
from pathlib import Path
from urllib.parse import urlparse

import pandas as pd
import streamlit as st

from extractor.app_support import (
    FIELDS,
    FUND_FIELDS,
    IND_COLS,
    audit_csv,
    document_pages,
    export_contract,
    export_eval_set,
    export_xlsx,
    field_edits,
    field_label,
    indicator_rows,
    low_confidence,
    md_text,
    page_text,
    pdf_page_png,
    provenance,
    scan_page_png,
    search_html,
    shown,
    text_context_html,
    upload_path,
)
from extractor.core.atomic import write_atomic
from extractor.core.config import load_config
from extractor.core.errors import ExtractorError
from extractor.core.records import LOW_READING_CONFIDENCE
from extractor.ingest import SUPPORTED_TEXT
from extractor.pipeline.batch import expand_inputs
from extractor.pipeline.importer import IMPORT_TEXT, ITEM_TEXT, ImportJob, import_files
from extractor.pipeline.inputs import find_inputs
from extractor.pipeline.process import reviewer
from extractor.review.rulebook import RULES
from extractor.store.contract import flag_keys
from extractor.store.database import ConcurrentEditError, Store

ROOT = Path(__file__).resolve().parent
DB_PATH = os.environ.get("EXTRACTOR_DB", str(ROOT / "out" / "review.db"))
SAMPLES = ROOT / "samples"
UPLOADS = Path(DB_PATH).parent / "uploads"
SEVERITY = {"error": "错误", "warn": "警告", "info": "提示"}
DECISIONS = {"open": "待定", "accepted": "采纳", "rejected": "驳回", "edited": "修改后采纳"}

st.set_page_config(page_title="绩效自评表审核", layout="wide")
# a small locale layer for the strings Streamlit draws itself (the upload box; its skip link)
st.html("""<style>
[data-testid="stSkipToContent"] {display: none;}
[data-testid="stFileUploaderDropzone"] button [data-testid="stMarkdownContainer"] p {display: none;}
[data-testid="stFileUploaderDropzone"] button [data-testid="stMarkdownContainer"]::after {content: "选择文件";}
[data-testid="stFileUploaderDropzoneInstructions"] span {display: none;}
[data-testid="stFileUploaderDropzoneInstructions"] > div::after {content: "拖放文件到此处，每个文件不超过200MB";}
</style>""")


@st.cache_resource
def get_store(path: str) -> Store:
    """One Store per database for the server; each session's thread gets its own connection. Imports
    left running by a server that died are recorded as interrupted."""
    s = Store(path, rereview=reviewer(load_config()))
    for r in s.imports(1000):
        if r["status"] == "running":
            s.finish_import(r["id"], "stopped", "程序在导入过程中退出（服务曾中断）")
    return s


@st.cache_resource
def import_jobs(path: str) -> dict[str, ImportJob]:
    """The import running for this database (one at a time), shared by every session."""
    return {}


store = get_store(DB_PATH)
if (not store.documents() and SAMPLES.exists() and not st.session_state.get("seeded")
        and os.environ.get("EXTRACTOR_SEED", "1") != "0"):
    with st.spinner("首次启动：正在导入自带样例……"):
        import_files(store, expand_inputs([str(SAMPLES)]))
    st.session_state["seeded"] = True

st.session_state.setdefault("page", "风险排序")
st.session_state.setdefault("form_id", None)
# the reviewer's name lives in the page address (?reviewer=…): a reload or a bookmark keeps it per browser
st.session_state.setdefault("who", st.query_params.get("reviewer") or "审核员")
if "goto_form" in st.session_state:  # navigation requested on the previous run
    st.session_state["form_id"] = st.session_state.pop("goto_form")
    st.session_state["page"] = "逐表审核"

# ---- sidebar -----------------------------------------------------------------------------------
with st.sidebar:
    st.title("绩效自评表审核")
    who = st.text_input("审核人", key="who", help="处理意见与更正记录以此署名；保存在本页地址中，刷新或收藏后仍保留")
    if who and st.query_params.get("reviewer") != who:
        st.query_params["reviewer"] = who
    page = st.radio("页面", ["风险排序", "逐表审核", "绩效评价报告", "问题与建议", "导入", "导出"], key="page")
    st.caption(f"数据库：{DB_PATH}")

@st.cache_data(max_entries=4, show_spinner=False)
def _triage_frame(path: str, stamp: tuple[int, int, int]) -> pd.DataFrame:
    """The queue's summary rows, read again only when a save changed the forms (``stamp``): a page
    of the form view does not re-read 20,000 rows."""
    rows = get_store(path).triage()
    return pd.DataFrame([dict(r) for r in rows]) if rows else pd.DataFrame()


frame = _triage_frame(DB_PATH, store.stamp())


def open_form(form_id: int) -> None:
    st.session_state["goto_form"] = form_id


def _selected_rows(key: str) -> list[int]:
    """The rows selected in the dataframe of widget ``key`` (read in its on_select callback)."""
    sel = st.session_state.get(key)
    return list(getattr(getattr(sel, "selection", None), "rows", None) or
                ((sel or {}).get("selection", {}).get("rows", []) if isinstance(sel, dict) else []))


def _open_picked() -> None:
    """The triage table's row click (a callback): open that row's form."""
    rows_picked = _selected_rows("triage_table")
    queue = st.session_state.get("queue") or []
    at = rows_picked[0] + st.session_state.get("triage_offset", 0) if rows_picked else None
    if at is not None and at < len(queue):
        open_form(queue[at])


# ---- import ------------------------------------------------------------------------------------
FORBIDDEN_ROOTS = ("/proc", "/sys", "/dev", "/etc", "/boot", "/run")


def _folder_problem(folder: str) -> str | None:
    """Why a typed folder cannot be imported (Chinese), or None: only readable folders of the user's
    own files, never system folders."""
    p = Path(folder).expanduser()
    try:
        real = p.resolve()
        if not p.exists():
            return f"找不到文件夹：{folder}"
        if not p.is_dir():
            return f"这不是文件夹：{folder}（单个文件请用上方的上传）"
    except OSError as exc:
        return f"无法访问：{folder}（{exc.strerror or exc}）"
    if str(real) == "/" or any(str(real) == r or str(real).startswith(r + "/") for r in FORBIDDEN_ROOTS):
        return f"不能导入系统文件夹：{real}"
    if not os.access(real, os.R_OK | os.X_OK):
        return f"没有读取权限：{real}"
    return None


def _import_report(import_id: int, live: bool) -> None:
    """One import's outcome, every input accounted for: what was read, found nothing, failed, skipped."""
    rec = next((r for r in store.imports(50) if r["id"] == import_id), None)
    if rec is None:
        return
    items = store.import_items(import_id)
    n = Counter(r["state"] for r in items)
    forms = sum(r["forms"] or 0 for r in items)
    frags = sum(r["fragments"] or 0 for r in items)
    status = rec["status"]
    if status == "running" and not live:
        status = "interrupted"
    line = (f"共 {len(items)} 个输入：读取 {n['ok']} 个（{forms} 份自评表、{frags} 个表格残片）；"
            f"未找到自评表 {n['empty']} 个；失败 {n['failed']} 个；跳过 {n['skipped']} 个")
    if status == "done":
        (st.success if n["ok"] == len(items) else st.warning)(f"导入完成（{rec['finished_at']}）。{line}。")
    elif status == "running":
        st.info(f"导入进行中。{line}；未处理 {n['pending']} 个。")
    else:
        why = rec["note"] or "程序在导入过程中退出"
        st.error(f"导入未完成：{why}。已保存：{line}；未导入 {n['pending']} 个（可重新导入，已保存的不会重复）。")
    problems = [r for r in items if r["state"] != "ok"]
    if problems:
        st.dataframe(pd.DataFrame([{"文件": r["name"], "结果": ITEM_TEXT.get(r["state"], r["state"]),
                                    "原因": r["error"] or "", "路径": r["path"]} for r in problems]),
                     hide_index=True, width="stretch")


@st.fragment(run_every=1.0)
def _import_progress() -> None:
    job = import_jobs(DB_PATH).get("job")
    if job is None:
        return
    if job.alive:
        n = len(job.files)
        st.progress(job.done / n if n else 1.0, text=f"已处理 {job.done}/{n} 个文件；正在处理：{job.current}")
        if job.page:
            k, total = job.page
            st.progress(k / total, text=f"正在识别扫描件 {job.current}：第 {k}/{total} 页（已识别的页会缓存）")
        st.caption("导入在后台进行：切换页面或关闭浏览器不会中断它。")
        if st.button("停止导入（已导入的文件保留）", key="stop_import"):
            job.stop_requested = True
    elif st.session_state.get("import_shown") != job.import_id:
        st.session_state["import_shown"] = job.import_id
        st.rerun()  # the whole page: the report and the triage pick up the new forms


def _start_import() -> None:
    """The 开始导入 button's callback: runs before the page is drawn again, so no click elsewhere can
    interrupt it; the import itself then runs in its own thread."""
    jobs = import_jobs(DB_PATH)
    if jobs.get("job") is not None and jobs["job"].alive:
        st.session_state["import_msg"] = ("warning", "已有导入在进行中，请等它完成后再导入")
        return
    files: list[Path] = []
    skipped: list[tuple[Path, str]] = []
    for f in st.session_state.get("uploads") or []:
        data = f.getvalue()
        try:
            p = upload_path(UPLOADS, f.name, data)  # never outside the data folder, whatever name was sent
            p.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(p, data)
            files.append(p)
        except (OSError, ValueError) as exc:
            skipped.append((Path(f.name), f"无法保存上传的文件：{exc}"))
    folder = (st.session_state.get("folder") or "").strip()
    if folder:
        problem = _folder_problem(folder)
        if problem:
            st.session_state["import_msg"] = ("error", problem)
        else:
            found = find_inputs([Path(folder).expanduser()])
            files += found.files
            skipped += found.skipped
    if not files and not skipped:
        if not folder:
            st.session_state["import_msg"] = ("warning", "请先上传文件或填写文件夹路径")
        return
    jobs["job"] = ImportJob(store, files, skipped, who=st.session_state.get("who", ""), cfg=load_config()).start()


def page_import() -> None:
    st.header("导入自评表")
    st.write(f"支持{SUPPORTED_TEXT}；损坏或无法识别的文件会列出原因，其余文件照常处理。"
             "同名的不同文件是不同的文件；重新导入已修改的文件时，未变化的数值上的更正与处理意见全部保留。")
    jobs = import_jobs(DB_PATH)
    running = jobs.get("job") is not None and jobs["job"].alive  # before the button: it is disabled meanwhile
    st.file_uploader("上传文件", accept_multiple_files=True, key="uploads")
    st.text_input("或输入文件夹路径", key="folder")
    st.button("开始导入", type="primary", key="do_import", disabled=running, on_click=_start_import)
    if "import_msg" in st.session_state:
        kind, msg = st.session_state.pop("import_msg")
        getattr(st, kind)(msg)
    running = jobs.get("job") is not None and jobs["job"].alive
    if running:
        _import_progress()
    last = store.imports(1)
    if last:
        _import_report(last[0]["id"], live=running and jobs["job"].import_id == last[0]["id"])
    earlier = store.imports(20)[1:]
    if earlier:
        with st.expander(f"以往的导入（{len(earlier)}）"):
            st.dataframe(pd.DataFrame([{"开始": r["started_at"], "结束": r["finished_at"] or "",
                                        "状态": IMPORT_TEXT.get(r["status"], r["status"]), "输入数": r["n_inputs"],
                                        "说明": r["note"] or ""} for r in earlier]), hide_index=True)


# ---- triage ------------------------------------------------------------------------------------
def _decide_many(items: list[tuple[int, str]], decision: str) -> int:
    """Save one decision on many flags ((form id, flag key) pairs); returns how many were saved. A form
    another tab changed meanwhile is decided on its newest version (a decision changes no value)."""
    done = 0
    for fid, key in items:
        for _attempt in range(3):
            try:
                store.decide_flag(fid, store.version(fid), key, decision, "批量处理", "", who)
                done += 1
                break
            except ConcurrentEditError:
                continue
        _reload(fid)
    return done


def _bulk_panel(ids: list[int], codes: list[str]) -> None:
    """Accept or reject, at once, every open flag of the chosen types on the forms the filter shows."""
    items = []
    for fid in ids:
        flags = store.effective_form(fid).get("flags") or []
        items += [(fid, k) for k, fl in zip(flag_keys(flags), flags)
                  if fl.get("code") in codes and fl.get("decision", "open") == "open"]
    titles = "、".join(RULES[c].title if c in RULES else c for c in codes)
    with st.expander(f"批量处理：筛选出的 {len(ids)} 份表中待定的“{titles}”问题共 {len(items)} 条"):
        sure = st.checkbox("我已核对筛选条件，确认批量处理这些问题", key="bulk_sure")
        b1, b2 = st.columns(2)
        for col, decision, label in ((b1, "accepted", "全部采纳"), (b2, "rejected", "全部驳回")):
            if col.button(label, key=f"bulk_{decision}", disabled=not (sure and items)):
                n = _decide_many(items, decision)
                st.session_state["flash_triage"] = f"已批量{DECISIONS[decision]} {n} 条问题（署名：{who}）。"
                st.rerun()
    if "flash_triage" in st.session_state:
        st.success(st.session_state.pop("flash_triage"))


TRIAGE_PAGE = int(os.environ.get("EXTRACTOR_PAGE_ROWS", "") or 500)  # rows of the triage table drawn at once
SCATTER_MAX = 3000  # above this, the score scatter becomes a count per (self, recomputed) cell


def page_triage() -> None:
    st.header("风险排序")
    problems = store.problem_documents()
    if problems:  # before every form: a file that failed is the least reviewed, not the cleanest
        st.warning(f"{len(problems)} 个文件没有可审核的自评表（读取失败或未找到），请先处理：")
        st.dataframe(pd.DataFrame([{"文件": d["name"], "结果": "读取失败" if d["status"] != "ok" else "未找到自评表",
                                    "原因": d["error"] or "文件可读，但其中没有识别出项目支出绩效自评表",
                                    "导入时间": d["imported_at"]} for d in problems]),
                     hide_index=True, width="stretch", key="problem_docs")
    if frame.empty:
        st.info("还没有自评表。请在“导入”页导入文件。")
        return
    df = frame.copy()
    c1, c2, c3, c4 = st.columns(4)
    depts = sorted(x for x in df["department"].dropna().unique())
    sel_dept = c1.multiselect("主管部门", depts, key="f_dept", placeholder="全部")
    codes = sorted(RULES)
    sel_code = c2.multiselect("问题类型", codes, format_func=lambda c: f"{RULES[c].title}（{c}）", key="f_code",
                              placeholder="全部")
    sel_sev = c3.multiselect("严重程度", list(SEVERITY), format_func=SEVERITY.get, key="f_sev", placeholder="全部")
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
        df = df[df["project_name"].fillna("").str.contains(query, regex=False)
                | df["files"].fillna("").str.contains(query, regex=False)]
    view = pd.DataFrame({
        "解析": df["confidence"].fillna(1).map(lambda c: "⚠待核" if c < LOW_READING_CONFIDENCE else ""),
        "风险分": df["risk"], "项目名称": df["project_name"].fillna("（表格残片）"), "主管部门": df["department"],
        "自评总分": df["self_total"], "重算总分": df["recomputed_total"], "差距": df["gap"],
        "错误": df["n_error"], "警告": df["n_warn"], "已复核": df["reviewed"].map({1: "是", 0: "否"}),
        "副本": df["copies"].map(lambda n: f"{n}份" if n > 1 else ""), "文件": df["files"]})
    st.session_state["queue"] = [int(x) for x in df["id"]]  # what 上一份/下一份 walk on the form page
    merged = int(frame["copies"].sum()) - len(frame)
    st.caption(f"共 {len(df)} 份（全部 {len(frame)} 份" + (f"；另有{merged}份是同一份表的副本（如同表的PDF与Word），已合并，只审一次、只计一次"
                                                     if merged else "") +
               "）。点选一行打开该表；逐表审核页的“上一份/下一份”按此筛选结果依次打开。")
    # a page of rows at a time: the browser draws 500 rows, not 20,000 (filters and order span them all)
    pages = max(1, -(-len(view) // TRIAGE_PAGE))
    signature = (tuple(sel_dept), tuple(sel_code), tuple(sel_sev), sel_rev, min_gap, query)
    if st.session_state.get("triage_filters") != signature or st.session_state.get("triage_page", 1) > pages:
        st.session_state["triage_filters"] = signature  # a new filter starts at its first page
        st.session_state["triage_page"] = 1
    if pages > 1:
        p1, p2 = st.columns([1, 4])
        page_no = int(p1.number_input(f"页码（共 {pages} 页）", min_value=1, max_value=pages, step=1,
                                      key="triage_page"))
        p2.caption(f"每页 {TRIAGE_PAGE} 份；本页为第 {(page_no - 1) * TRIAGE_PAGE + 1}–"
                   f"{min(page_no * TRIAGE_PAGE, len(view))} 份")
    else:
        page_no = 1
    offset = (page_no - 1) * TRIAGE_PAGE
    st.session_state["triage_offset"] = offset
    # opened in the widgets' callbacks, before the script runs: one run draws the form page
    st.dataframe(view.iloc[offset:offset + TRIAGE_PAGE], hide_index=True, on_select=_open_picked,
                 selection_mode="single-row", key="triage_table", width="stretch")
    st.button("打开排在最前的表（先待核，再按风险）", key="open_worst", disabled=not len(df),
              on_click=lambda: open_form(st.session_state["queue"][0]) if st.session_state.get("queue") else None)
    if sel_code and len(df):
        _bulk_panel([int(x) for x in df["id"]], sel_code)
    st.subheader("概览（按当前筛选）")
    g1, g2, g3 = st.columns(3)
    counts = Counter(c for s in df["codes"].fillna("") for c in s.split(",") if c)
    g1.caption("各类问题涉及的表数")
    g1.bar_chart(pd.Series({RULES[c].title if c in RULES else c: n for c, n in counts.most_common(12)}), horizontal=True)
    g2.caption("各主管部门的表数与平均风险分")
    g2.bar_chart(df.groupby(df["department"].fillna("（无）"))["risk"].mean())
    g3.caption("自评总分与重算总分")
    pts = df.rename(columns={"self_total": "自评总分", "recomputed_total": "重算总分", "project_name": "项目"})
    pts = pts.dropna(subset=["自评总分", "重算总分"])
    if len(pts) > SCATTER_MAX:  # thousands of points: counted in cells, not drawn one by one
        import altair as alt

        cells = pts[["自评总分", "重算总分"]].round(0).value_counts().rename("表数").reset_index()
        g3.altair_chart(alt.Chart(cells).mark_rect().encode(
            x=alt.X("自评总分:O", sort="ascending"), y=alt.Y("重算总分:O", sort="descending"),
            color=alt.Color("表数:Q", scale=alt.Scale(scheme="oranges")), tooltip=["自评总分", "重算总分", "表数"]),
            width="stretch")
    elif len(pts):  # axes fitted to the scores (they cluster near the top), not 0–100
        import altair as alt

        g3.altair_chart(alt.Chart(pts[["自评总分", "重算总分", "项目"]]).mark_circle(size=60).encode(
            x=alt.X("自评总分", scale=alt.Scale(zero=False, nice=True)),
            y=alt.Y("重算总分", scale=alt.Scale(zero=False, nice=True)), tooltip=["项目", "自评总分", "重算总分"]),
            width="stretch")
    else:
        g3.caption("（筛选结果中没有可比较的总分）")


# ---- one form ----------------------------------------------------------------------------------
FLAG_SPOT = "@flag"  # the locator's first choice: where the current flag's evidence is


def _source_view(form: dict, doc_path: str, field: str, flag: dict | None = None) -> None:
    ref = (flag or {}).get("where") if field == FLAG_SPOT else provenance(form, field)
    if not ref and field == FLAG_SPOT and flag is not None:  # no position on the flag: its row, else the form
        ref = (provenance(form, f"indicators.{flag['indicator']}.name") if flag.get("indicator") is not None
               else None) or provenance(form, "project_name")
        if ref:
            st.caption("此问题涉及整行或全表，显示该行（或表头）的位置。")
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


GUARD_JS = """
<script>
(() => {
  const g = window.__reviewGuard || (window.__reviewGuard = {dirty: false});
  g.dirty = false;  // a form (or a new version of it) was just rendered
  if (g.installed) return;
  g.installed = true;
  const typing = el => !!el && (el.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(el.tagName));
  const navTexts = ["← 上一份", "下一份 →", "载入最新内容"];
  const isNav = el => {
    const b = el.closest && el.closest("button");
    if (b && navTexts.some(t => b.innerText.trim().startsWith(t))) return true;
    return !!(el.closest && el.closest("[data-testid='stSidebar'] [role='radiogroup'] label"));
  };
  window.addEventListener("input", e => {
    if (e.target.closest && e.target.closest("[data-testid='stForm']")) g.dirty = true;
  }, true);
  window.addEventListener("click", e => {
    const b = e.target.closest && e.target.closest("button");
    if (b && b.closest("[data-testid='stForm']") && b.getAttribute("kind") && b.getAttribute("kind").includes("Form")) {
      g.dirty = false;  // a save: what was typed goes to the server
      return;
    }
    if (g.dirty && isNav(e.target)) {
      const now = Date.now();  // one click on a label can arrive twice: ask once
      const ok = (g.asked && now - g.asked.t < 600) ? g.asked.ok
        : window.confirm("本表有尚未保存的修改，离开后将丢失。确定离开吗？（取消则留在本表，可先点“保存更正”）");
      g.asked = {t: Date.now(), ok: ok};
      if (!ok) {
        e.preventDefault(); e.stopPropagation(); e.stopImmediatePropagation();
      } else {
        g.dirty = false;
      }
    }
  }, true);
  window.addEventListener("keydown", e => {
    if (!e.altKey || !["ArrowLeft", "ArrowRight"].includes(e.key)) return;
    if (typing(e.target) || (e.target.closest && e.target.closest("[data-testid='stDataFrame'], [data-testid='stDataFrameResizable']"))) return;  // the cursor moves; the form stays
    const want = e.key === "ArrowLeft" ? "← 上一份" : "下一份 →";
    const btn = [...document.querySelectorAll("button")].find(x => x.innerText.trim().startsWith(want));
    if (btn && !btn.disabled) { e.preventDefault(); btn.click(); }
  }, true);
  window.addEventListener("beforeunload", e => { if (g.dirty) { e.preventDefault(); e.returnValue = ""; } });
})();
</script>
"""


def _snapshot(fid: int) -> dict:
    """What this tab shows of a form: the version and values read when the tab opened it, kept until
    the tab's own save or a reload, so every save names the version its reviewer saw."""
    snap = st.session_state.get("snap")
    if snap is None or snap["fid"] != fid:
        carry = st.session_state.pop("carry", None) or {}
        if carry.get("fid") != fid:
            carry = {}
        version = store.version(fid)
        snap = {"fid": fid, "version": version, "values": store.value_version(fid), "form": store.effective_form(fid),
                "pending": carry.get("pending", {}), "errors": carry.get("errors", {}), "conflict": None}
        st.session_state["snap"] = snap
    return snap


def _low(snap: dict) -> dict:
    """The snapshot's OCR readings to check, computed once per snapshot."""
    if "low" not in snap:
        snap["low"] = low_confidence(snap["form"])
    return snap["low"]


def _reload(fid: int, pending: dict | None = None, errors: dict | None = None) -> None:
    """Show the form's newest saved version next run, keeping ``pending`` typed text in its fields."""
    st.session_state["snap"] = None
    st.session_state["carry"] = {"fid": fid, "pending": pending or {}, "errors": errors or {}}


def _change_rows(changes: list[dict]) -> pd.DataFrame:
    kinds = {"correction": "更正", "decision": "处理意见", "reviewed": "复核标记", "reimport": "重新导入原文件",
             "llm": "大模型复核"}

    def val(x: str | None) -> str:
        v = None if x is None else json.loads(x)
        if isinstance(v, dict):
            return DECISIONS.get(v.get("decision"), "") + (f"：{v['comment']}" if v.get("comment") else "")
        if isinstance(v, bool):
            return "已复核" if v else "未复核"
        return shown(v)

    return pd.DataFrame([{"版本": c["version"], "类别": kinds.get(c["kind"], c["kind"]),
                          "字段或问题": _field_label(c["target"]) if c["kind"] == "correction" else c["target"],
                          "原值": val(c["old_value"]), "新值": val(c["new_value"]), "修改人": c["who"],
                          "时间": c["at"]} for c in changes])


def _conflict_panel(fid: int, snap: dict) -> None:
    latest = store.version(fid)
    conflict = snap.get("conflict")
    if conflict is None and latest == snap["version"]:
        return
    with st.container(border=True):
        if conflict:
            st.error(conflict["message"])
            if conflict["mine"]:
                st.caption("你未保存的修改（载入最新内容后会保留在各输入框中，请核对后再保存）：")
                st.dataframe(pd.DataFrame([{"字段": _field_label(k), "你的修改": shown(v)}
                                           for k, v in conflict["mine"].items()]), hide_index=True)
        else:
            st.warning(f"他人已修改：此表在你打开后已保存到第 {latest} 版（你看到的是第 {snap['version']} 版）。"
                       "现在保存会被拒绝；请先载入最新内容。")
        changes = store.changes_since(fid, snap["version"])
        if changes:
            st.caption("对方保存的修改：")
            st.dataframe(_change_rows(changes), hide_index=True, width="stretch")
        if st.button("载入最新内容", key=f"reload_{fid}", type="primary"):
            mine = (conflict or {}).get("mine") or {}
            _reload(fid, pending={k: shown(v) for k, v in mine.items() if not k.startswith("问题 ")})
            st.rerun()


def page_form() -> None:
    ids = [int(x) for x in frame["id"]] if not frame.empty else []
    if not ids:
        st.info("还没有自评表。")
        return
    live = set(ids)
    queue = [i for i in st.session_state.get("queue") or [] if i in live]
    if queue and (st.session_state.get("form_id") or queue[0]) in queue:
        ids = queue  # the triage filter defines what 上一份/下一份 walk
    fid = st.session_state.get("form_id") or ids[0]
    if fid not in ids:
        fid = ids[0]
    st.session_state["form_id"] = fid
    pos = ids.index(fid)
    snap = _snapshot(fid)
    version, form = snap["version"], snap["form"]
    st.html(GUARD_JS + f"<!-- form {fid} v{version} -->", unsafe_allow_javascript=True)
    nav1, nav2, nav3 = st.columns([1.4, 1.4, 5])
    if nav1.button("← 上一份", key="prev", disabled=pos == 0):
        open_form(ids[pos - 1])
        st.rerun()
    if nav2.button("下一份 →", key="next", disabled=pos == len(ids) - 1):
        open_form(ids[pos + 1])
        st.rerun()
    nav3.caption(f"第 {pos + 1} / {len(ids)} 份（{'风险排序页的筛选结果' if ids is queue else '全部，按风险排序'}）；"
                 "快捷键 Alt+← / Alt+→（在输入框中打字时不起作用）")
    reviewed = store.raw_form(fid)[2]
    doc = store.document_of(fid)
    st.header(md_text(form.get("project_name") or "（表格残片）"))
    st.caption(f"文件：{md_text(doc['name'])} · 第 {version} 版")
    twins = store.copies_of(fid)
    if twins:
        st.caption(f"同一份表的副本另有{len(twins)}份（{md_text('、'.join(t['file'] for t in twins))}），已合并：在此审核一次即可，"
                   "统计与草稿只计一次")
    if "flash" in st.session_state:
        st.success(st.session_state.pop("flash"))
    _conflict_panel(fid, snap)
    rs = form.get("rescore") or {}
    m1, m2, m3, m4 = st.columns(4)
    m1.metric("风险分", form.get("risk"))
    m2.metric("自评总分", rs.get("self_total"))
    m3.metric("重算总分", rs.get("recomputed_total"), delta=None if rs.get("gap") is None else 0.0 - rs["gap"])  # never "-0.0"
    m4.metric("已复核", "是" if reviewed else "否")
    if (form.get("confidence") or 1) < LOW_READING_CONFIDENCE or form.get("warnings"):
        st.warning("需重点核对（解析置信度较低）：" + "；".join(md_text(w) for w in form.get("warnings") or []))
    low = _low(snap)
    if low:
        st.error(f"OCR识别置信度较低的值 {len(low)} 处，已在下方以“⚠待核”标出，请对照左侧原件逐一核对："
                 + "；".join(f"{_field_label(k)}（{v:.2f}）" for k, v in low.items()))
    llm = form.get("llm") or {}
    if llm.get("unverified") or llm.get("disagreements") or llm.get("filled"):
        with st.expander(f"大模型复核（{md_text(llm.get('model'))}，{md_text(llm.get('prompt'))}）：补充或更正 "
                         f"{len(llm.get('filled') or [])} 处，不一致 {len(llm.get('disagreements') or [])} 处，"
                         f"未核实 {len(llm.get('unverified') or [])} 处", expanded=bool(llm.get("unverified"))):
            for u in llm.get("unverified") or []:
                st.error(f"未核实（{md_text(u.get('note') or '原文中找不到')}，未采用）："
                         f"{_field_label(u['field'])} = {md_text(u['value'])}")
            for d in llm.get("disagreements") or []:
                st.warning(f"不一致：{_field_label(d['field'])}：规则解析“{md_text(d.get('parser'))}”，"
                           f"大模型“{md_text(d.get('llm'))}”（已保留规则解析）")
            for f_ in llm.get("filled") or []:
                if "replaced" in f_:
                    st.info(f"由大模型更正（已在原文中核实）：{_field_label(f_['field'])} = {md_text(f_['value'])}，"
                            f"规则解析原为“{md_text(f_['replaced'])}”（{md_text(f_.get('why'))}）")
                else:
                    st.info(f"由大模型补充（已在原文中核实）：{_field_label(f_['field'])} = {md_text(f_['value'])}")
    _llm_panel(fid, snap)
    stale = [c for c in store.corrections(fid) if c["stale"] and c["active"]]
    if stale:
        st.warning("原文件已更新，以下更正所针对的原值已变化，未自动套用，请重新确认：" +
                   "；".join(f"{_field_label(c['field'])}（原更正：{md_text(json.loads(c['new_value']))}）"
                             for c in stale))
    left, right = st.columns([5, 6])
    with right:
        _edit_form(fid, snap, low)
        if st.button("标记为已复核" if not reviewed else "取消“已复核”", key=f"rev_{fid}"):
            try:
                snap_v = store.set_reviewed(fid, version, not reviewed, who=who)
                st.session_state["flash"] = f"已{'标记' if not reviewed else '取消'}复核（第 {snap_v} 版）。"
                _reload(fid)
                st.rerun()
            except ConcurrentEditError as exc:
                snap["conflict"] = {"message": str(exc), "mine": {}}
                st.rerun()
        hist = store.corrections(fid)
        if hist:
            with st.expander(f"更正记录（{len(hist)}）"):
                st.dataframe(pd.DataFrame([{"字段": _field_label(c["field"]), "原值": shown(json.loads(c["old_value"])),
                                            "新值": shown(json.loads(c["new_value"])), "更正人": c["who"], "时间": c["at"],
                                            "状态": "已失效" if not c["active"] else ("原值已变" if c["stale"] else "生效")}
                                           for c in hist]), hide_index=True)
    with left:
        _review_panel(fid, doc["path"])


@st.fragment
def _review_panel(fid: int, doc_path: str) -> None:
    """The source beside the flags, and the flags' review: a decision runs this part of the page only
    (the queue, the header and the edit form, which a decision does not change, are not redrawn)."""
    snap = _snapshot(fid)
    form = snap["form"]
    low = _low(snap)
    if "flash_flag" in st.session_state:
        st.success(st.session_state.pop("flash_flag"))
    st.subheader("原文")
    choices = [k for k, _ in FIELDS] + [f"indicators.{i}.{k}" for i in range(len(form.get("indicators") or []))
                                         for k in ("name", "target", "actual", "weight", "score")]
    choices = list(low) + [c for c in choices if c not in low]  # values to check first
    flags = form.get("flags") or []
    cur_flag = flags[_current(fid, flags)] if flags else None
    if cur_flag is not None:  # the source follows the flag being decided (J/K, a click in the list);
        choices.insert(len(low), FLAG_SPOT)  # OCR readings to check still come first
    field = st.selectbox("定位字段", choices, key=f"loc_{fid}",
                         format_func=lambda k: (f"当前问题的原文位置（第 {_current(fid, flags) + 1} 条）" if k == FLAG_SPOT
                                                else _field_label(k) + (" ⚠待核" if k in low else "")))
    _source_view(form, doc_path, field, cur_flag)
    if st.session_state.pop("scroll_source", False):  # a 定位 click in the list below: show the evidence
        st.html("<script>setTimeout(() => { const h = [...document.querySelectorAll('h3')]"
                ".find(x => x.innerText.trim() === '原文'); if (h) h.scrollIntoView({block: 'start'}); }, 300);"
                "</script>", unsafe_allow_javascript=True)
    with st.expander("原文全文（可搜索）", expanded=bool(st.session_state.get(f"srch_{fid}"))):
        query = st.text_input("在原文中搜索", key=f"srch_{fid}", placeholder="如 满意度、执行率、项目名称中的词")
        pages = document_pages(doc_path)
        if pages is None:
            st.caption("原文件不可用，无法显示原文。")
        else:
            body, hits = search_html(pages, query)
            if query.strip():
                st.caption(f"“{md_text(query.strip())}”共 {hits} 处")
            st.html(f"<div style='max-height:520px;overflow:auto'>{body}</div>")
    st.subheader("审核意见")
    history = store.decision_history(fid)
    if flags:
        _quick_review(fid, snap, flags)
    with st.expander(f"逐条详细处理（写意见、修改说明）：{len(flags)} 条", expanded=False, key=f"details_{fid}"):
        for k, (key, fl) in enumerate(zip(flag_keys(flags), flags)):
            _flag_box(fid, snap, key, fl, who, history.get(key, []), k)
    live = set(flag_keys(flags))
    gone = [d for k, d in store.decisions(fid).items() if k not in live]
    if gone:
        st.caption("以下处理意见所针对的问题在更正后不再出现（意见保留，供查阅）：" +
                   "；".join(f"{md_text(d['flag_key'])}：{DECISIONS.get(d['decision'], d['decision'])}"
                             f"{('（' + md_text(d['comment']) + '）') if d['comment'] else ''}" for d in gone))


@st.cache_resource(ttl=60)
def _llm_settings():  # type: ignore[no-untyped-def]
    """The LLM endpoint as the CLI would use it (environment, or the file EXTRACTOR_LLM_CONFIG names);
    (config or None, why not). Read again every minute: a key set later is picked up."""
    from extractor.llm.client import load_llm_config

    try:
        cfg = load_llm_config(os.environ.get("EXTRACTOR_LLM_CONFIG") or None)
    except ExtractorError as exc:
        return None, f"大模型配置有误：{exc}"
    if not cfg.configured:
        return None, ""
    return cfg, ""


def _llm_panel(fid: int, snap: dict) -> None:
    """大模型复核: this form sent to the configured model through the CLI's LLM step; only values
    found in the source are taken, the rest listed as unverified."""
    cfg, why = _llm_settings()
    if cfg is None:
        st.caption(why or "未配置大模型，本表不能交给大模型复核（配置方法见说明文档“大模型步骤”一节）。",
                   help="设置环境变量 EXTRACTOR_LLM_API_KEY、EXTRACTOR_LLM_BASE_URL、EXTRACTOR_LLM_MODEL，"
                        "或以 EXTRACTOR_LLM_CONFIG 指向含 [llm] 表的配置文件，然后重新启动本程序")
        return
    c1, c2 = st.columns([1.3, 5])
    clicked = c1.button("大模型复核本表", key=f"llm_{fid}",
                        help="把本表的原文交给已配置的大模型重新读取；只采用能在原文中找到的值，人工更正与处理意见保留")
    c2.caption(f"大模型：{md_text(cfg.model)}（{md_text(urlparse(cfg.base_url).netloc or cfg.base_url)}）。"
               "复核结果逐项列在下方，未能在原文中核实的值不采用。")
    if not clicked:
        return
    from extractor.pipeline.recheck import recheck_form

    with st.spinner("正在请大模型复核本表……"):
        try:
            out = recheck_form(store, fid, cfg, load_config(), who=who)
        except ConcurrentEditError as exc:
            snap["conflict"] = {"message": str(exc), "mine": {}}
            st.rerun()
        except ExtractorError as exc:
            st.error(str(exc))
            return
    st.session_state["flash"] = out.text
    _reload(fid)
    st.rerun()


def _edit_form(fid: int, snap: dict, low: dict) -> None:
    """The editable values. Keys carry the version the tab shows: after a reload every box shows the
    newest values, never a stale one kept by the browser."""
    version, form, pending, errors = snap["version"], snap["form"], snap["pending"], snap["errors"]
    vkey = snap["values"]  # changes with the values only: a flag decided meanwhile keeps what is typed here
    st.subheader("抽取结果（可直接修改）")
    typed: dict[str, object] = {}

    def start(key: str) -> str:
        return pending.get(key, shown(_get(form, key)))

    with st.form(key=f"edit_{fid}_{vkey}"):
        if pending and not errors:
            st.info("输入框中保留了你上次未保存的修改，请核对后保存。")
        for key, label0 in FIELDS:
            label = f"{label0} ⚠待核（OCR置信度{low[key]:.2f}）" if key in low else label0
            wkey = f"{fid}_{vkey}_{key}"
            if key.startswith("goal"):
                typed[key] = st.text_area(label, start(key), key=wkey, height=68)
            else:
                typed[key] = st.text_input(label, start(key), key=wkey)
            if key in errors:
                st.error(f"{label0}：{errors[key]}（本项未保存，其余修改已保存）")
        funds_df = pd.DataFrame([{"字段": lab, "值": start(k), "核对": f"⚠待核 {low[k]:.2f}" if k in low else ""}
                                 for k, lab in FUND_FIELDS])
        funds_new = st.data_editor(funds_df, key=f"funds_{fid}_{vkey}", disabled=["字段", "核对"], hide_index=True)
        for (k, _lab), val in zip(FUND_FIELDS, funds_new["值"]):
            typed[k] = val
        for k, lab in FUND_FIELDS:
            if k in errors:
                st.error(f"{lab}：{errors[k]}（本项未保存）")
        inds = form.get("indicators") or []
        ind_df = pd.DataFrame([{"原行": str(i + 1)} | {lab: start(f"indicators.{i}.{k}") for k, lab in IND_COLS}
                               | {"核对": "、".join(f"⚠{lab}" for k, lab in IND_COLS if f"indicators.{i}.{k}" in low)}
                               for i, _ind in enumerate(inds)], columns=["原行", *(lab for _, lab in IND_COLS), "核对"])
        ind_df = ind_df.astype({lab: "object" for _, lab in IND_COLS})
        st.caption("绩效指标（“核对”列标出OCR置信度低、须对照原件核对的单元格；表格下方的“＋”添加一行，"
                   "选中行首后按删除键删去该行；读漏的行可在此补录）")
        ind_new = st.data_editor(ind_df, key=f"inds_{fid}_{vkey}", hide_index=True, width="stretch",
                                 disabled=["原行", "核对"], num_rows="dynamic",
                                 column_config={"原行": st.column_config.TextColumn(default="新增"),
                                                **{lab: st.column_config.TextColumn(default="") for _, lab in IND_COLS}})
        kept = [int(x) - 1 if isinstance(x, str) and x.isdigit() else None for x in ind_new["原行"]]
        structural = kept != list(range(len(inds)))
        if structural:  # rows added or removed: the table is saved as a whole
            typed["indicators"] = [(k, {key: (None if pd.isna(row[lab]) else row[lab]) if not isinstance(row[lab], str)
                                         else row[lab] for key, lab in IND_COLS})
                                   for k, (_, row) in zip(kept, ind_new.iterrows())]
        else:
            for i in range(len(inds)):
                for k, lab in IND_COLS:
                    typed[f"indicators.{i}.{k}"] = ind_new.iloc[i][lab]
        for k, msg in errors.items():
            if k.startswith("indicators."):
                st.error(f"{_field_label(k)}：{msg}（本项未保存）")
        saved = st.form_submit_button("保存更正", type="primary")
    if not saved:
        return
    table = typed.pop("indicators", None)
    edits, bad = field_edits(form, typed)
    if table is not None:
        rows_new, row_bad = indicator_rows(form.get("indicators") or [], table)
        if row_bad:
            bad |= row_bad
        else:
            edits["indicators"] = rows_new
    mine = edits | {k: typed.get(k) for k in bad}
    if not edits and not bad:
        st.info("没有修改。")
        return
    if not edits:  # nothing valid to save: the typed text stays in its boxes, each error beside its field
        snap["errors"] = bad
        st.rerun()
    try:
        new_version = store.save_corrections(fid, version, edits, who=who)
    except ConcurrentEditError as exc:
        snap["conflict"] = {"message": str(exc), "mine": mine}
        st.rerun()
    except ExtractorError as exc:
        st.error(f"未保存：{exc}")
        return
    st.session_state["flash"] = f"已保存 {len(edits)} 处更正（第 {new_version} 版）。" + (
        f"另有 {len(bad)} 处格式不对，未保存，已在该项下方标出。" if bad else "")
    _reload(fid, pending={k: shown(typed.get(k)) for k in bad}, errors=bad)
    st.rerun()


def _get(form: dict, path: str):  # type: ignore[no-untyped-def]
    from extractor.store.contract import get_path
    return get_path(form, path)


def _field_label(path: str) -> str:
    return field_label(path)


def _quick_decide(fid: int, snap: dict, key: str, cur: int, after: int, act: str) -> None:
    """The quick panel's 采纳/驳回 (a button callback): save, move on to the next undecided flag."""
    try:
        store.decide_flag(fid, snap["version"], key, act, "", "", st.session_state.get("who") or "审核员")
    except ConcurrentEditError as exc:
        snap["conflict"] = {"message": str(exc), "mine": {f"问题 {key}": DECISIONS[act]}}
        return
    _quick_move(fid, after)
    st.session_state["flash_flag"] = f"第 {cur + 1} 条已{DECISIONS[act]}。"
    _reload(fid)


def _current(fid: int, flags: list[dict]) -> int:
    """The flag the quick panel shows: the first undecided one when the form opens."""
    cur_key = f"cur_{fid}"
    if cur_key not in st.session_state:
        st.session_state[cur_key] = next((k for k, fl in enumerate(flags) if fl.get("decision", "open") == "open"), 0)
    return max(0, min(st.session_state[cur_key], len(flags) - 1))


def _quick_move(fid: int, to: int, scroll: bool = False) -> None:
    """J/K and the 定位 links (callbacks): show flag ``to``, and its evidence in the source view
    (``scroll``: bring the source view into sight, for a click far below it)."""
    st.session_state[f"cur_{fid}"] = to
    st.session_state[f"loc_{fid}"] = FLAG_SPOT
    if scroll:
        st.session_state["scroll_source"] = True


def _flag_picked(fid: int, version: int) -> None:
    """One row clicked in the flag list: that flag becomes the current one (several rows: a selection
    for 所选…全部 below, the current flag stays)."""
    rows = _selected_rows(f"flags_{fid}_{version}")
    if len(rows) == 1:
        _quick_move(fid, rows[0])


def _quick_review(fid: int, snap: dict, flags: list[dict]) -> None:
    """One flag at a time, decided from the keyboard: A 采纳, X 驳回, J 下一条, K 上一条. A decision
    moves on to the next undecided flag; a selection in the list below is accepted or rejected at once."""
    keys = flag_keys(flags)
    cur = _current(fid, flags)
    fl = flags[cur]
    title = RULES[fl["code"]].title if fl["code"] in RULES else md_text(fl["code"])
    where = "" if fl.get("indicator") is None else f" · 指标{fl['indicator'] + 1}"
    open_n = sum(1 for x in flags if x.get("decision", "open") == "open")
    with st.container(border=True):
        st.markdown(f"**第 {cur + 1}/{len(flags)} 条（待定 {open_n} 条）【{SEVERITY.get(fl['severity'], fl['severity'])}】"
                    f"{title}**{where} — {DECISIONS.get(fl.get('decision', 'open'))}")
        st.markdown(md_text(fl.get("message")))
        if fl.get("evidence"):
            st.caption(f"原文：{md_text(fl['evidence'])}")
        b1, b2, b3, b4 = st.columns(4)
        # decided in the click's callback, before the script runs: one run shows the result
        after = next((k for k in range(cur + 1, len(flags)) if flags[k].get("decision", "open") == "open"),
                     min(cur + 1, len(flags) - 1))
        args = (fid, snap, keys[cur], cur, after)
        b1.button("采纳", key=f"qa_{fid}", shortcut="A", type="primary", on_click=_quick_decide, args=(*args, "accepted"))
        b2.button("驳回", key=f"qx_{fid}", shortcut="X", on_click=_quick_decide, args=(*args, "rejected"))
        b3.button("上一条", key=f"qk_{fid}", shortcut="K", disabled=cur == 0, on_click=_quick_move, args=(fid, cur - 1))
        b4.button("下一条", key=f"qj_{fid}", shortcut="J", disabled=cur == len(flags) - 1, on_click=_quick_move,
                  args=(fid, cur + 1))
        st.caption("键盘：A 采纳 · X 驳回 · J 下一条 · K 上一条（光标在输入框中时不起作用）")
    table = pd.DataFrame([{"序号": k + 1, "问题": RULES[x["code"]].title if x["code"] in RULES else x["code"],
                           "指标": "表级" if x.get("indicator") is None else f"第{x['indicator'] + 1}项",
                           "说明": x.get("message") or "", "处理": DECISIONS.get(x.get("decision", "open"))}
                          for k, x in enumerate(flags)])
    event = st.dataframe(table, hide_index=True, on_select=partial(_flag_picked, fid, snap["version"]),
                         selection_mode="multi-row",
                         key=f"flags_{fid}_{snap['version']}", width="stretch", height=min(36 * (len(flags) + 1) + 4, 380))
    picked = list(event.selection.rows) if event is not None and hasattr(event, "selection") else []
    if picked:
        c1, c2 = st.columns(2)
        for col, decision in ((c1, "accepted"), (c2, "rejected")):
            if col.button(f"所选 {len(picked)} 条全部{DECISIONS[decision]}", key=f"sel_{decision}_{fid}"):
                n = _decide_many([(fid, keys[k]) for k in picked], decision)
                st.session_state["flash"] = f"已{DECISIONS[decision]}所选 {n} 条问题。"
                st.rerun()


def _flag_box(fid: int, snap: dict, key: str, fl: dict, who: str, history: list[dict], k: int) -> None:
    version = snap["version"]
    title = RULES[fl["code"]].title if fl["code"] in RULES else md_text(fl["code"])
    where = "" if fl.get("indicator") is None else f" · 指标{fl['indicator'] + 1}"
    decision = fl.get("decision", "open")
    with st.container(border=True):
        st.markdown(f"**【{SEVERITY.get(fl['severity'], fl['severity'])}】{title}**{where} — {DECISIONS.get(decision)}")
        if history:  # every decision kept, newest last: who decided what, and when
            st.caption("处理记录：" + "；".join(
                f"{md_text(h['at'][:16].replace('T', ' '))} {md_text(h.get('who') or '（未署名）')}："
                f"{DECISIONS.get(h.get('decision'), md_text(h.get('decision')))}"
                + (f"（{md_text(h['comment'])}）" if h.get("comment") else "") for h in history))
        if fl.get("reconfirm"):
            st.warning("更正后此问题引用的原文已变化，原处理意见仍保留，请重新确认。")
        st.markdown(md_text(fl.get("message")))
        if fl.get("evidence"):
            st.caption(f"原文：{md_text(fl['evidence'])}")
        if fl.get("suggestion"):
            st.caption(f"建议：{md_text(fl['suggestion'])}")
        st.button("在原文中定位", key=f"spot_{fid}_{key}", on_click=_quick_move, args=(fid, k, True),
                  help="上方“原文”显示此问题所引原文的位置")
        with st.form(key=f"flag_{fid}_{key}_{version}"):
            choice = st.radio("处理", list(DECISIONS), index=list(DECISIONS).index(decision), horizontal=True,
                              format_func=DECISIONS.get, key=f"d_{fid}_{key}_{version}")
            comment = st.text_input("意见", fl.get("comment") or "", key=f"c_{fid}_{key}_{version}")
            message = st.text_area("修改后的说明（选“修改后采纳”时填写）", fl.get("message") if decision == "edited" else "",
                                   key=f"m_{fid}_{key}_{version}", height=68)
            if st.form_submit_button("保存处理意见"):
                try:
                    store.decide_flag(fid, version, key, choice, comment, message if choice == "edited" else "", who)
                    st.session_state["flash"] = f"已保存处理意见：{DECISIONS[choice]}。"
                    _reload(fid)
                    st.rerun()
                except ConcurrentEditError as exc:
                    snap["conflict"] = {"message": str(exc), "mine": {
                        f"问题 {key}": DECISIONS[choice] + (f"：{comment}" if comment else "")}}
                    st.rerun()


# ---- narrative reports -------------------------------------------------------------------------
REPORT_KINDS = {"evaluation": "绩效评价报告", "department": "部门整体绩效报告", "self": "单位自评报告", "rectification": "整改报告"}
REPORT_FIELDS = [("kind", "报告种类"), ("unit", "被评价单位"), ("project", "项目"), ("year", "年度"),
                 ("budget_total", "预算总额（万元）"), ("executed_total", "执行总额（万元）"), ("income_total", "收入合计（万元）"),
                 ("execution_rate", "预算执行率（%）"), ("total_score", "综合得分"), ("grade", "等级"),
                 ("self_score", "单位自评得分"), ("self_grade", "单位自评等级")]


def page_reports() -> None:
    st.header("绩效评价报告")
    reps = store.reports()
    if not reps:
        st.info("尚未导入含绩效评价报告的文件。")
        return
    pick = st.selectbox("报告", range(len(reps)), key="report_pick", format_func=lambda i: (
        f"{reps[i]['document']} · {REPORT_KINDS.get(reps[i].get('kind'), '报告')} · "
        f"{reps[i].get('unit') or ''}{reps[i].get('project') or reps[i].get('title') or ''}"
        + (f" · 问题{len(reps[i].get('flags') or [])}处" if reps[i].get("flags") else "")))
    rep = reps[pick]
    left, right = st.columns([1, 1])
    with right:
        st.subheader("读出的内容")
        rows = [{"字段": label, "值": shown(REPORT_KINDS.get(rep.get(k), rep.get(k)) if k == "kind" else rep.get(k)),
                 "来源": (f"第{ref.get('line')}行" if (ref := (rep.get("provenance") or {}).get(k)) else "")}
                for k, label in REPORT_FIELDS]
        st.dataframe(pd.DataFrame(rows), hide_index=True)
        if rep.get("converted_from_yuan"):
            st.caption("以下金额原文以“元”为单位，已换算为万元：" + "、".join(
                dict(REPORT_FIELDS).get(k, k) for k in rep["converted_from_yuan"]))
        if rep.get("projects"):
            st.markdown("**报告列出的项目**")
            st.dataframe(pd.DataFrame([{"项目": p.get("name"), "金额（万元）": shown(p.get("amount"))}
                                       for p in rep["projects"]]), hide_index=True)
        for key, title in (("problems", "存在的问题"), ("suggestions", "建议与改进措施")):
            st.markdown(f"**{title}**")
            items = rep.get(key) or []
            if not items:
                st.caption("报告中没有这一部分（或未读到）。")
            for n, item in enumerate(items, 1):
                st.markdown(f"{n}. {md_text(item)}")
        st.subheader("审核意见")
        if not rep.get("flags"):
            st.caption("未发现问题。")
        for fl in rep.get("flags") or []:
            box = st.error if fl.get("severity") == "error" else st.warning if fl.get("severity") == "warn" else st.info
            box(md_text(fl.get("message", "")) + (f"\n\n建议：{md_text(fl['suggestion'])}" if fl.get("suggestion") else ""))
            if fl.get("evidence"):
                st.caption(f"依据：{md_text(fl['evidence'])}")
    with left:
        st.subheader("原文")
        lines = rep.get("lines") or [1, 1]
        page = min((r.get("page", 1) for r in (rep.get("provenance") or {}).values()), default=1)
        text = page_text(rep["path"], page) if Path(rep["path"]).exists() else None
        if text is None:
            st.caption("原文件不可用，无法显示原文。")
        else:
            body = text.split("\n")[max(0, lines[0] - 1):lines[1] if lines[1] >= lines[0] else None]
            st.text_area("报告原文", "\n".join(body), height=640, disabled=True, key=f"report_src_{rep['id']}")


# ---- draft and export ------------------------------------------------------------------------
def _draft_diff(old: str, new: str) -> str:
    """What regenerating would change in the edited text, line by line (－ removed, ＋ added)."""
    import difflib

    out = []
    for line in difflib.ndiff(old.splitlines(), new.splitlines()):
        if line.startswith(("- ", "+ ")):
            out.append(("－ " if line[0] == "-" else "＋ ") + line[2:])
    return "\n".join(out) or "（没有差别）"


def page_draft() -> None:
    from datetime import datetime

    from extractor.draft.sections import draft_markdown
    from extractor.draft.word import markdown_to_docx

    st.header("问题与建议草稿")
    scope = st.radio("范围", ["全部自评表", "已复核的自评表"], horizontal=True, key="draft_scope")
    rows = store.triage()
    depts = sorted({r["department"] for r in rows if r["department"]})
    pick_dept = st.multiselect("只起草这些主管部门（不选则全部）", depts, key="draft_depts", placeholder="全部")
    candidates = [r for r in rows if (scope == "全部自评表" or r["reviewed"])
                  and (not pick_dept or r["department"] in pick_dept)]
    pick_forms = st.multiselect("只起草这些项目（不选则上述范围内全部）", [r["id"] for r in candidates],
                                format_func=lambda i: next(r["project_name"] or "（表格残片）" for r in candidates
                                                           if r["id"] == i), key="draft_forms", placeholder="全部")
    accepted = st.checkbox("只用已采纳（含修改后采纳）的审核意见", value=True, key="draft_accepted")
    ids = pick_forms or [r["id"] for r in candidates]
    st.caption(f"按 {len(ids)} 份自评表起草（同一份表的副本只计一次）。")
    forms = [store.effective_form(i) for i in ids]
    reports = store.reports() if not pick_forms else []
    if pick_dept:
        reports = [r for r in reports if any(d and (d in (r.get("unit") or "") or (r.get("unit") or "_") in d)
                                             for d in pick_dept)]
    generated = draft_markdown(forms, accepted, reports)
    saved = store.load_draft("default")
    # the text last put in the box by generation: the box is "edited" once it differs from that
    base = store.load_draft("default:generated")
    if base is None and saved is None:  # a first draft: the box starts from generation
        base = generated
        store.save_draft("default:generated", base, who)
    # (a draft saved by a release that kept no generated text counts as edited by hand)
    replace = st.session_state.pop("draft_replace", None)
    if "draft_text" not in st.session_state:
        st.session_state["draft_text"] = saved if saved is not None else generated
    current = st.session_state["draft_text"]
    if replace is None and current == base and generated != current:
        replace = generated  # not edited by hand: the box follows the scope and the decisions
    if replace is not None:
        if current != base:  # hand edits are never lost: the replaced text stays in the history
            store.save_draft(f"history:{datetime.now().isoformat(timespec='microseconds')}", current, who)
        st.session_state["draft_text"] = replace
        store.save_draft("default", replace, who)
        store.save_draft("default:generated", replace, who)
        st.session_state.pop("draft_confirm", None)
    text = st.text_area("草稿（可直接修改，保存后下次打开仍在）", height=480, key="draft_text")
    edited = text != store.load_draft("default:generated")
    if text != generated:
        st.info("编辑框中的草稿与按当前范围和审核意见生成的草稿不同" + ("（含人工修改）。" if edited else "。")
                + "如需更新，点“按当前意见重新生成”，确认差异后再替换。")
    c1, c2, c3, c4 = st.columns(4)
    if c1.button("保存草稿", key="save_draft"):
        store.save_draft("default", text, who)
        st.success("已保存。")
    if c2.button("按当前意见重新生成", key="regen_draft", disabled=text == generated):
        st.session_state["draft_confirm"] = True
    c3.download_button("下载 Markdown", text.encode("utf-8"), file_name="问题与建议.md", key="dl_md")
    c4.download_button("下载 Word", markdown_to_docx(text), file_name="问题与建议.docx", key="dl_docx")
    if st.session_state.get("draft_confirm") and text != generated:
        st.warning("重新生成将替换编辑框中的文字" + ("，其中的人工修改会被覆盖（替换前的文字保存在下方“草稿历史”中）" if edited else "")
                   + "。以下是将发生的变化（－ 删除，＋ 新增）：")
        st.code(_draft_diff(text, generated), language=None)
        k1, k2 = st.columns(2)
        if k1.button("确认替换", key="regen_confirm", type="primary"):
            st.session_state["draft_replace"] = generated
            st.rerun()
        if k2.button("取消", key="regen_cancel"):
            st.session_state.pop("draft_confirm", None)
            st.rerun()
    history = store.drafts("history:")
    if history:
        with st.expander(f"草稿历史（被替换的人工修改稿，共{len(history)}份）"):
            for k, h in enumerate(history[:20]):
                st.download_button(f"{h['at']} · {h['who'] or '（未署名）'}", h["text"].encode("utf-8"),
                                   file_name=f"问题与建议_替换前_{k + 1}.md", key=f"dl_hist_{k}")


def page_export() -> None:
    st.header("导出")
    st.download_button("导出JSON（已套用更正）", json.dumps(export_contract(store), ensure_ascii=False, indent=1).encode("utf-8"),
                       file_name="审核结果.json", key="dl_json")
    st.download_button("导出Excel工作簿", export_xlsx(store), file_name="审核结果.xlsx", key="dl_xlsx")
    st.download_button("导出操作记录（CSV）", audit_csv(store), file_name="操作记录.csv", key="dl_audit",
                       help="全部更正、处理意见与复核标记，含操作人和时间")
    target = st.text_input("评测集文件夹", str(ROOT / "eval_sets" / "reviewed"), key="eval_dir")
    if st.button("把已复核的表写入评测集", key="to_eval"):
        written = export_eval_set(store, Path(target))
        st.success(f"已写出 {len(written)} 个标准答案文件到 {target}")


{"风险排序": page_triage, "逐表审核": page_form, "绩效评价报告": page_reports, "问题与建议": page_draft, "导入": page_import,
 "导出": page_export}[page]()
