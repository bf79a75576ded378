"""Streamlit-free helpers for the review app: source views, exports, editable field lists.

Kept out of ``review_app.py`` so they can be tested without a browser and reused by scripts.
"""

from __future__ import annotations

import hashlib
import html
import io
import json
import re
from pathlib import Path
from typing import Any

from extractor.core.field_names import FORM_FIELDS, FUND_AMOUNTS, FUND_ROWS, INDICATOR_FIELDS
from extractor.store.contract import low_confidence, parse_edit, provenance  # noqa: F401  (re-exported for the app)
from extractor.store.database import Store

FIELDS = list(FORM_FIELDS.items())
FUND_FIELDS = [(f"funds.{r}.{c}", f"{rl}·{cl}") for r, rl in FUND_ROWS.items() for c, cl in FUND_AMOUNTS.items()]
IND_COLS = list(INDICATOR_FIELDS.items())
_MARKUP = re.compile(r"([\\`*_\[\]<>!#~$:|{}()=+\-.^&])")


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


def page_text(path: str, page: int) -> str | None:
    """The page text the spans index into (re-read from the file: the same text every time)."""
    from extractor.ingest import ingest

    try:
        doc = ingest(path)
    except Exception:  # the file may have moved: the app then shows values without context
        return None
    for p in doc.pages:
        if p.number == page:
            return p.text
    return None


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


def pdf_page_png(path: str, page: int, bbox: list[float] | None, zoom: float = 1.5) -> bytes:
    """A PDF page as PNG with the value's box outlined in red."""
    import pymupdf

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
    out = []
    for d in store.documents():
        forms = [store.effective_form(r["id"]) for r in store.conn.execute(
            "SELECT id FROM forms WHERE document_id=? ORDER BY idx", (d["id"],))]
        out.append({"source": d["name"], "status": d["status"], "error": d["error"], "forms": forms})
    return {"documents": out}


def export_xlsx(store: Store) -> bytes:
    """A workbook of forms, indicators, flags and review decisions."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws_f = wb.active
    ws_f.title = "自评表"
    ws_f.append(["文件", "项目名称", "主管部门", "年度", "自评总分", "重算总分", "差距", "风险分", "已复核"])
    ws_i = wb.create_sheet("指标")
    ws_i.append(["文件", "项目名称", "序号"] + [c for _, c in IND_COLS])
    ws_q = wb.create_sheet("问题")
    ws_q.append(["文件", "项目名称", "代码", "严重程度", "指标序号", "说明", "原文", "建议", "处理", "意见"])
    ws_c = wb.create_sheet("更正记录")
    ws_c.append(["文件", "项目名称", "字段", "原值", "新值", "更正人", "时间", "来源已变"])
    for row in store.triage():
        form = store.effective_form(row["id"])
        rs = form.get("rescore") or {}
        ws_f.append([row["file"], form.get("project_name"), form.get("department"), form.get("year"),
                     rs.get("self_total"), rs.get("recomputed_total"), rs.get("gap"), form.get("risk"),
                     "是" if row["reviewed"] else "否"])
        for i, ind in enumerate(form.get("indicators") or []):
            ws_i.append([row["file"], form.get("project_name"), i + 1] + [ind.get(k) for k, _ in IND_COLS])
        for fl in form.get("flags") or []:
            ws_q.append([row["file"], form.get("project_name"), fl.get("code"), fl.get("severity"),
                         None if fl.get("indicator") is None else fl["indicator"] + 1, fl.get("message"),
                         fl.get("evidence"), fl.get("suggestion"), fl.get("decision", "待定"), fl.get("comment")])
        for c in store.corrections(row["id"]):
            ws_c.append([row["file"], form.get("project_name"), c["field"], json.loads(c["old_value"]),
                         json.loads(c["new_value"]), c["who"], c["at"], "是" if c["stale"] else "否"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


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


_UNSAFE = re.compile(r'[\x00-\x1f<>:"/\\|?*]')


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
