"""Streamlit-free helpers for the review app: source views, exports, editable field lists.

Kept out of ``review_app.py`` so they can be tested without a browser and reused by scripts.
"""

from __future__ import annotations

import hashlib
import html
import io
import json
import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from extractor.core.field_names import FORM_FIELDS, FUND_AMOUNTS, FUND_COLUMNS, FUND_ROWS, INDICATOR_FIELDS
from extractor.core.lazy_regex import lazy_compile
from extractor.store.contract import low_confidence, parse_edit, provenance  # noqa: F401  (re-exported for the app)
from extractor.store.database import Store

FIELDS = list(FORM_FIELDS.items())
FUND_FIELDS = [(f"funds.{r}.{c}", f"{rl}·{cl}") for r, rl in FUND_ROWS.items() for c, cl in FUND_AMOUNTS.items()] + [
    (f"funds.total.{c}", f"{FUND_ROWS['total']}·{FUND_COLUMNS[c]}") for c in ("rate", "weight", "score")]
IND_COLS = list(INDICATOR_FIELDS.items())
_MARKUP = lazy_compile(r"([\\`*_\[\]<>!#~$:|{}()=+\-.^&])")


def md_text(text: Any) -> str:
    """Text from a document, for an element that renders Markdown, shown exactly as written: every
    character Markdown or Streamlit could read as markup is escaped, so ``![](http://…)`` is text, not
    an image the reviewer's browser fetches, and ``:red[…]`` or ``<b>`` stay as typed."""
    return _MARKUP.sub(r"\\\1", "" if text is None else str(text))


def shown(value: Any) -> str:
    """A value as the form's input box shows it: empty for none."""
    return "" if value is None else str(value)


def field_edits(original: dict[str, Any], typed: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """The reviewer's typed values against the form as shown: (valid changes by field, Chinese message
    by field for values that are not of the field's type). A bad value never blocks the good ones."""
    from extractor.store.contract import get_path

    edits, errors = {}, {}
    for field, text in typed.items():
        if shown(text).strip() == shown(get_path(original, field)).strip():
            continue  # as shown: not an edit
        value, err = parse_edit(field, text)
        if err:
            errors[field] = err
        elif value != get_path(original, field) and not (value is None and get_path(original, field) in ("", None)):
            edits[field] = value
    return edits, errors


def indicator_rows(original: list[dict[str, Any]], edited: list[tuple[Any, dict[str, Any]]]
                   ) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """The indicator table after rows were added or removed: ``edited`` holds (row index as the
    editor kept it, or None for a new row; values by contract key). A kept row keeps what the editor
    does not show (its provenance); a new row is what was typed. Returns (rows, Chinese errors by
    field path); a row left wholly empty is dropped."""
    rows, errors = [], {}
    for n, (index, values) in enumerate(edited):
        base = dict(original[index]) if isinstance(index, int) and 0 <= index < len(original) else {}
        row = {k: v for k, v in base.items()}
        for key, text in values.items():
            value, err = parse_edit(f"indicators.{n}.{key}", text)
            if err:
                errors[f"indicators.{n}.{key}"] = err
            row[key] = value
        if base or any(v not in (None, "") for v in values.values()):
            rows.append(row)
    return rows, errors


@lru_cache(maxsize=16)
def _pages(path: str, stamp: tuple) -> tuple[tuple[int, str], ...] | None:  # type: ignore[type-arg]
    """(number, text) of every page as the reader saw it (OCR text for scans); None when the file is
    gone or unreadable. Kept per file version (``stamp``: modification time and size), so a page
    redrawn many times reads its file once."""
    from extractor.ingest import ingest

    try:
        return tuple((p.number, p.text) for p in ingest(path).pages)
    except Exception:  # moved or unreadable: the app shows values without the source
        return None


def _read_pages(path: str) -> tuple[tuple[int, str], ...] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return _pages(path, (st.st_mtime_ns, st.st_size))


def page_text(path: str, page: int) -> str | None:
    """The page text the spans index into (the same text every time)."""
    return next((text for number, text in _read_pages(path) or () if number == page), None)


def text_context_html(text: str, start: int, end: int, around: int = 3) -> str:
    """The source lines around a span, the span highlighted, as HTML."""
    line_start = text.rfind("\n", 0, start) + 1
    for _ in range(around):
        prev = text.rfind("\n", 0, max(0, line_start - 1))
        line_start = prev + 1 if prev >= 0 else 0
    line_end = end
    for _ in range(around + 1):
        nxt = text.find("\n", line_end + 1)
        line_end = nxt if nxt >= 0 else len(text)
    before, hit, after = text[line_start:start], text[start:end], text[end:line_end]
    esc = lambda s: html.escape(s).replace("\t", " ⇥ ")  # noqa: E731
    return (f"<pre style='white-space:pre-wrap;font-size:13px'>{esc(before)}"
            f"<mark style='background:#ffd54f'>{esc(hit)}</mark>{esc(after)}</pre>")


def document_pages(path: str) -> list[str] | None:
    """Every page's text as the reader saw it (OCR text for scans), or None when the file is gone."""
    pages = _read_pages(path)
    return None if pages is None else [text for _number, text in pages]


def search_html(pages: list[str], query: str, limit: int = 120_000) -> tuple[str, int]:
    """The document's text as HTML (escaped), every match of ``query`` (literal, case-insensitive)
    marked; with a query only the pages holding a match. Returns (html, number of matches); at most
    ``limit`` characters are shown."""
    q = (query or "").strip()
    pattern = re.compile(re.escape(q), re.I) if q else None
    out, hits, size = [], 0, 0
    for n, text in enumerate(pages, 1):
        found = list(pattern.finditer(text)) if pattern else []
        if pattern and not found:
            continue
        hits += len(found)
        parts, last = [], 0
        for m in found:
            parts += [html.escape(text[last:m.start()]), f"<mark style='background:#ffd54f'>{html.escape(m.group(0))}</mark>"]
            last = m.end()
        parts.append(html.escape(text[last:]))
        body = "".join(parts)
        if size + len(body) > limit:
            out.append("<p>（其余内容过长未显示，请用搜索定位）</p>")
            break
        size += len(body)
        out.append(f"<p style='color:#888;margin:8px 0 2px'>第{n}页</p>"
                   f"<pre style='white-space:pre-wrap;font-size:13px;margin:0'>{body}</pre>")
    return "".join(out) or "<p>（没有找到）</p>", hits


def pdf_page_png(path: str, page: int, bbox: list[float] | None, zoom: float = 1.5) -> bytes:
    """A PDF page as PNG with the value's box outlined in red."""
    from extractor.core.mupdf import pymupdf

    with pymupdf.open(path) as doc:
        p = doc[page - 1]
        if bbox:
            r = pymupdf.Rect(bbox)
            shape = p.new_shape()
            shape.draw_rect(r + (-2, -2, 2, 2))
            shape.finish(color=(0.9, 0.1, 0.1), width=2)
            shape.commit()
        return p.get_pixmap(matrix=pymupdf.Matrix(zoom, zoom)).tobytes("png")


def scan_page_png(path: str, page: int, bbox: list[float] | None, width: int = 1100) -> bytes:
    """A scanned page (image file frame or text-less PDF page) as PNG, turned by the angle OCR read
    it at (measured with seals dropped, as OCR does), with the value's box outlined in red (boxes are
    in points of the deskewed page)."""
    from PIL import Image, ImageDraw

    from extractor.ocr.image import drop_red, rotate, skew_angle
    from extractor.ocr.page_images import page_image

    img, dpi = page_image(path, page - 1, pdf=path.lower().endswith(".pdf"))
    im = Image.fromarray(rotate(img, skew_angle(drop_red(img))))
    if bbox:
        k = dpi / 72.0
        x0, y0, x1, y1 = (v * k for v in bbox)
        ImageDraw.Draw(im).rectangle((x0 - 3, y0 - 3, x1 + 3, y1 + 3), outline=(230, 25, 25), width=4)
    if im.width > width:
        im = im.resize((width, round(im.height * width / im.width)))
    buf = io.BytesIO()
    im.save(buf, "PNG")
    return buf.getvalue()


def export_contract(store: Store) -> dict[str, Any]:
    """Every document's forms with corrections applied and decisions attached, in the contract shape."""
    shown_once = {r["id"]: r for r in store.triage()}  # one copy of each form is the one reviewed
    reviewed_copy = {}
    for r in store.conn.execute("SELECT f.id, f.copy_key, d.name FROM forms f JOIN documents d ON d.id=f.document_id"):
        if r["id"] in shown_once and r["copy_key"]:
            reviewed_copy[r["copy_key"]] = (r["id"], r["name"])
    out = []
    for d in store.documents():
        forms = []
        for r in store.conn.execute("SELECT id, copy_key FROM forms WHERE document_id=? ORDER BY idx", (d["id"],)):
            form = store.effective_form(r["id"])
            main = reviewed_copy.get(r["copy_key"])
            if main is not None and main[0] != r["id"]:
                form["copy_of"] = main[1]  # a copy: its review is the one on that file's form
            forms.append(form)
        out.append({"source": d["name"], "status": d["status"], "error": d["error"], "forms": forms})
    return {"documents": out}


SEVERITY_CN = {"error": "错误", "warn": "警告", "info": "提示"}
DECISION_CN = {"open": "待定", "accepted": "采纳", "rejected": "驳回", "edited": "修改后采纳"}
EVENT_CN = {"correction": "更正", "decision": "处理意见", "reviewed": "复核标记", "reimport": "重新导入"}


def field_label(path: str) -> str:
    """A contract path as the reviewer knows it: ``indicators.3.score`` → 指标4 · 得分."""
    if path == "indicators":
        return "绩效指标表（整表，含增删行）"
    parts = path.split(".")
    if parts[0] == "indicators" and len(parts) == 3 and parts[1].isdigit():
        return f"指标{int(parts[1]) + 1} · {INDICATOR_FIELDS.get(parts[2], parts[2])}"
    if parts[0] == "funds" and len(parts) == 3:
        return f"{FUND_ROWS.get(parts[1], parts[1])}·{FUND_COLUMNS.get(parts[2], parts[2])}"
    return FORM_FIELDS.get(path, path)


def _sheet(wb, title: str, header: list[str], widths: list[int]):  # type: ignore[no-untyped-def]
    """A sheet with a bold, frozen, filterable header and set column widths."""
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    ws = wb.create_sheet(title)
    ws.append(header)
    for k, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(k)].width = w
        cell = ws.cell(row=1, column=k)
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
        cell.alignment = Alignment(vertical="center", wrap_text=True)
    ws.freeze_panes = "A2"
    return ws


def _finish(ws) -> None:  # type: ignore[no-untyped-def]
    from openpyxl.utils import get_column_letter

    ws.auto_filter.ref = f"A1:{get_column_letter(ws.max_column)}{max(ws.max_row, 1)}"


def _value(v: Any) -> Any:
    return json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list)) else v


def export_xlsx(store: Store) -> bytes:
    """The review as a workbook in Chinese: forms with their funds, indicators, findings with their
    decisions, corrections and the audit trail; each sheet with a frozen, filterable header."""
    import openpyxl

    from extractor.review.rulebook import RULES

    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    fund_cols = [(r, c) for r in FUND_ROWS for c in FUND_AMOUNTS] + [("total", c) for c in ("rate", "weight", "score")]
    ws_f = _sheet(wb, "自评表", ["文件", "项目名称", "主管部门", "实施单位", "年度"]
                  + [f"{FUND_ROWS[r]}·{FUND_COLUMNS[c]}" for r, c in fund_cols]
                  + ["自评总分", "重算总分", "差距", "重算说明", "风险分", "解析置信度", "已复核"],
                  [28, 30, 20, 20, 7] + [12] * len(fund_cols) + [9, 9, 8, 30, 8, 9, 7])
    ws_i = _sheet(wb, "指标", ["文件", "项目名称", "序号"] + [c for _, c in IND_COLS],
                  [28, 30, 6] + [14 if k in ("level1", "level2") else 24 if k in ("name", "target", "actual", "deviation")
                                 else 8 for k, _ in IND_COLS])
    ws_q = _sheet(wb, "问题", ["文件", "项目名称", "问题", "严重程度", "指标序号", "说明", "原文", "建议", "处理", "意见"],
                  [28, 30, 18, 8, 8, 50, 30, 40, 10, 24])
    ws_c = _sheet(wb, "更正记录", ["文件", "项目名称", "字段", "原值", "新值", "更正人", "时间", "来源已变"],
                  [28, 30, 20, 20, 20, 10, 20, 8])
    for row in store.triage():
        form = store.effective_form(row["id"])
        rs = form.get("rescore") or {}
        funds = form.get("funds") or {}
        ws_f.append([row["file"], form.get("project_name"), form.get("department"), form.get("implementing_unit"),
                     form.get("year")] + [(funds.get(r) or {}).get(c) for r, c in fund_cols]
                    + [rs.get("self_total"), rs.get("recomputed_total"), rs.get("gap"), rs.get("note") or None,
                       form.get("risk"), form.get("confidence"), "是" if row["reviewed"] else "否"])
        for i, ind in enumerate(form.get("indicators") or []):
            ws_i.append([row["file"], form.get("project_name"), i + 1] + [ind.get(k) for k, _ in IND_COLS])
        for fl in form.get("flags") or []:
            code = fl.get("code")
            ws_q.append([row["file"], form.get("project_name"), RULES[code].title if code in RULES else code,
                         SEVERITY_CN.get(fl.get("severity"), fl.get("severity")),
                         None if fl.get("indicator") is None else fl["indicator"] + 1, fl.get("message"),
                         fl.get("evidence"), fl.get("suggestion"), DECISION_CN.get(fl.get("decision", "open"), "待定"),
                         fl.get("comment")])
        for c in store.corrections(row["id"]):
            ws_c.append([row["file"], form.get("project_name"), field_label(c["field"]), _value(json.loads(c["old_value"])),
                         _value(json.loads(c["new_value"])), c["who"], c["at"], "是" if c["stale"] else "否"])
    ws_a = _sheet(wb, "操作记录", AUDIT_HEADER,
                  [6, 28, 30, 10, 24, 24, 24, 10, 20, 6])
    for e in audit_rows(store):
        ws_a.append(e)
    for ws in wb.worksheets:
        _finish(ws)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _event_text(kind: str, v: Any) -> Any:
    if kind == "decision" and isinstance(v, dict):
        word = DECISION_CN.get(v.get("decision"), v.get("decision"))
        return word + (f"（{v['comment']}）" if v.get("comment") else "")
    if kind == "reviewed":
        return "已复核" if v else "未复核"
    return _value(v)


AUDIT_HEADER = ["序号", "文件", "项目名称", "操作", "对象", "原值", "新值", "操作人", "时间", "版本"]


def audit_csv(store: Store) -> bytes:
    """The audit trail as CSV (UTF-8 with BOM, so Excel opens the Chinese as written)."""
    import csv

    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(AUDIT_HEADER)
    w.writerows(audit_rows(store))
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def audit_rows(store: Store) -> list[list[Any]]:
    """The audit trail as rows in Chinese (序号, 文件, 项目, 操作, 对象, 原值, 新值, 操作人, 时间, 版本)."""
    from extractor.review.rulebook import RULES

    out = []
    for e in store.audit_trail():
        target = e["target"]
        if e["kind"] == "decision":
            code = target.split("|")[0]
            target = f"{RULES[code].title}（{target}）" if code in RULES else target
        elif e["kind"] == "correction":
            target = field_label(target)
        out.append([e["id"], e["document"], e["project"], EVENT_CN.get(e["kind"], e["kind"]), target,
                    _event_text(e["kind"], e["old"]), _event_text(e["kind"], e["new"]), e["who"], e["at"], e["version"]])
    return out


GOLD_KEYS = ("year", "project_name", "department", "implementing_unit", "project_lead", "phone", "funds",
             "goal_expected", "goal_actual", "total_weight", "total_score")


def export_eval_set(store: Store, out_dir: Path, reviewed_only: bool = True) -> list[Path]:
    """Corrected forms as gold files (``<file>.gold.json``) so human review grows the eval sets."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for d in store.documents():
        rows = store.conn.execute("SELECT id, reviewed FROM forms WHERE document_id=? ORDER BY idx", (d["id"],)).fetchall()
        forms = []
        for r in rows:
            if reviewed_only and not r["reviewed"]:
                continue
            f = store.effective_form(r["id"])
            g = {k: f.get(k) for k in GOLD_KEYS}
            g["indicators"] = [{k: ind.get(k) for k, _ in IND_COLS} for ind in f.get("indicators") or []]
            forms.append(g)
        if forms:
            p = out_dir / f"{Path(d['name']).stem}.gold.json"
            p.write_text(json.dumps({"source": d["name"], "forms": forms}, ensure_ascii=False, indent=1), encoding="utf-8")
            written.append(p)
    return written


_UNSAFE = lazy_compile(r'[\x00-\x1f<>:"/\\|?*]')


def upload_path(dest: Path, name: str, data: bytes) -> Path:
    """Where an uploaded file is kept: ``dest/<content hash>/<the name's last part, cleaned>``, always
    inside ``dest`` whatever name the browser sent (``../../x.txt``, ``/etc/passwd``, ``C:\\x``). Two
    different files with one name are two documents; the same file uploaded again is the same one."""
    base = _UNSAFE.sub("_", name.replace("\\", "/").rsplit("/", 1)[-1]).strip(" .") or "upload"
    digest = hashlib.sha256(data).hexdigest()[:16]
    folder = (dest / digest).resolve()
    target = (folder / base[:120]).resolve()
    root = dest.resolve()
    if root not in target.parents:
        raise ValueError(f"上传文件名不安全：{name!r}")
    return target
