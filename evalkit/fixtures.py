"""Render forms (contract JSON) into real Word, Excel and PDF files, laid out like the standard
自评表: a 9-column grid with merged label cells and 一级/二级指标 merged down their groups.

Used by the tests and by ``extractor eval --formats`` so that the parser is judged on the file
types users actually send, not only on text dumps.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from extractor.core.figures import as_json_number

FUND_LABELS = [("total", "年度资金总额"), ("fiscal", "其中：当年财政拨款"), ("carryover", "上年结转资金"),
               ("other", "其他资金")]
IND_HEAD = ["绩效指标", "一级指标", "二级指标", "三级指标", "年度指标值", "实际完成值", "分值", "得分",
            "偏差原因分析及改进措施"]

# A layout row: list of (text, colspan, rowspan); rowspan 0 marks a cell covered from above.
Grid = list[list[tuple[str, int, int]]]


def _fmt(v: Any) -> str:
    if v is None:
        return ""
    v = as_json_number(v)
    return str(v)


def _rate(v: Any) -> str:
    return "" if v is None else f"{_fmt(v)}%"


def _runs(values: list[str | None]) -> list[int]:
    """Length of each merge run starting at i (0 inside a run): equal consecutive values merge."""
    spans = [0] * len(values)
    i = 0
    while i < len(values):
        j = i + 1
        while j < len(values) and values[j] == values[i] and values[i]:
            j += 1
        spans[i] = j - i
        i = j
    return spans


def form_grid(form: dict[str, Any]) -> Grid:
    """The cell layout of one form (9 columns)."""
    g: Grid = []
    if form.get("project_name") is not None:
        g.append([("项目名称", 1, 1), (form.get("project_name") or "", 8, 1)])
        g.append([("主管部门", 1, 1), (form.get("department") or "", 3, 1), ("实施单位", 2, 1),
                  (form.get("implementing_unit") or "", 3, 1)])
        if form.get("project_lead") is not None or form.get("phone") is not None:
            g.append([("项目负责人", 1, 1), (form.get("project_lead") or "", 3, 1), ("联系电话", 2, 1),
                      (form.get("phone") or "", 3, 1)])
        funds = form.get("funds") or {}
        g.append([("项目资金（万元）", 1, 5), ("", 2, 1), ("年初预算数", 1, 1), ("全年预算数", 1, 1),
                  ("全年执行数", 1, 1), ("分值", 1, 1), ("执行率", 1, 1), ("得分", 1, 1)])
        for key, label in FUND_LABELS:
            r = funds.get(key) or {}
            total = key == "total"
            g.append([("", 1, 0), (label, 2, 1), (_fmt(r.get("initial")), 1, 1), (_fmt(r.get("full_year")), 1, 1),
                      (_fmt(r.get("executed")), 1, 1), (_fmt(r.get("weight")) if total else "—", 1, 1),
                      (_rate(r.get("rate")) if total else "—", 1, 1), (_fmt(r.get("score")) if total else "—", 1, 1)])
        g.append([("年度总体目标", 1, 2), ("预期目标", 4, 1), ("实际完成情况", 4, 1)])
        g.append([("", 1, 0), (form.get("goal_expected") or "", 4, 1), (form.get("goal_actual") or "", 4, 1)])
    inds = form.get("indicators") or []
    l1 = [i.get("level1") for i in inds]
    l2 = [(i.get("level1"), i.get("level2")) for i in inds]
    s1, s2 = _runs(l1), _runs([f"{a}|{b}" if b else None for a, b in l2])  # type: ignore[misc]
    g.append([(IND_HEAD[0], 1, len(inds) + 1)] + [(h, 1, 1) for h in IND_HEAD[1:]])
    for k, ind in enumerate(inds):
        row: list[tuple[str, int, int]] = [("", 1, 0)]
        row.append((ind.get("level1") or "", 1, s1[k]) if s1[k] else ("", 1, 0))
        row.append((ind.get("level2") or "", 1, s2[k]) if s2[k] else ("", 1, 0))
        row += [(ind.get("name") or "", 1, 1), (ind.get("target") or "", 1, 1), (ind.get("actual") or "", 1, 1),
                (_fmt(ind.get("weight")), 1, 1), (_fmt(ind.get("score")), 1, 1), (ind.get("deviation") or "", 1, 1)]
        g.append(row)
    if form.get("total_weight") is not None or form.get("total_score") is not None:
        g.append([("总分", 6, 1), (_fmt(form.get("total_weight")), 1, 1), (_fmt(form.get("total_score")), 1, 1),
                  ("", 1, 1)])
    return g


def placed(grid: Grid):
    """(row, column, text, colspan, rowspan) of every cell that starts in the grid (covered slots skipped)."""
    for ri, row in enumerate(grid):
        col = 0
        for text, cs, rs in row:
            if rs:
                yield ri, col, text, cs, rs
            col += cs


def _titles(form: dict[str, Any]) -> list[str]:
    if form.get("project_name") is None:
        return []
    out = ["项目支出绩效自评表"]
    if form.get("year"):
        out.append(f"（{form['year']}年度）")
    return out


# ---- Word ------------------------------------------------------------------------------------
def render_docx(forms: list[dict[str, Any]], path: str | Path) -> None:
    """Write the forms as Word tables with merged cells."""
    import docx

    d = docx.Document()
    for fi, form in enumerate(forms):
        if fi:
            d.add_page_break()
        for t in _titles(form):
            d.add_paragraph(t)
        grid = form_grid(form)
        table = d.add_table(rows=len(grid), cols=9)
        table.style = "Table Grid"
        for ri, col, text, cs, rs in placed(grid):
            cell = table.cell(ri, col)
            if cs > 1 or rs > 1:
                cell = cell.merge(table.cell(ri + rs - 1, col + cs - 1))
            cell.text = text
    d.save(str(path))


# ---- Excel -----------------------------------------------------------------------------------
def _xl_value(text: str) -> Any:
    try:
        if text.endswith("%"):
            return float(text[:-1]) / 100
        f = float(text)
        return int(f) if f.is_integer() and "." not in text else f
    except ValueError:
        return text


def render_xlsx(forms: list[dict[str, Any]], path: str | Path, *, numbers_as_numbers: bool = True) -> None:
    """Write the forms one below another on one sheet, merged ranges and number formats included."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "自评表"
    r0 = 1
    for form in forms:
        for t in _titles(form):
            ws.cell(r0, 1, t)
            r0 += 1
        grid = form_grid(form)
        for ri, col0, text, cs, rs in placed(grid):
            col = col0 + 1
            c = ws.cell(r0 + ri, col)
            v = _xl_value(text) if numbers_as_numbers and text else text
            c.value = v if v != "" else None
            if isinstance(v, str) and v.startswith("="):
                c.data_type = "s"  # text such as "=100%" typed into a cell, not a formula
            if isinstance(v, float) and text.endswith("%"):
                c.number_format = "0%"
            if cs > 1 or rs > 1:
                ws.merge_cells(start_row=r0 + ri, start_column=col, end_row=r0 + ri + rs - 1,
                               end_column=col + cs - 1)
        r0 += len(grid) + 2
    wb.save(str(path))


# ---- PDF -------------------------------------------------------------------------------------
_CSS = """
@font-face { font-family: cjk; src: url(cjk.ttf); }
body { font-size: 9pt; font-family: cjk; }
p.t { text-align: center; font-size: 14pt; margin: 2pt; }
table { border-collapse: collapse; width: 100%; }
td { border: 0.8pt solid black; padding: 2pt; vertical-align: top; }
"""


def form_html(form: dict[str, Any]) -> str:
    """One form as an HTML table."""
    parts = [f'<p class="t">{html.escape(t)}</p>' for t in _titles(form)]
    parts.append("<table>")
    for row in form_grid(form):
        parts.append("<tr>")
        for text, cs, rs in row:
            if rs == 0:
                continue
            attrs = (f' colspan="{cs}"' if cs > 1 else "") + (f' rowspan="{rs}"' if rs > 1 else "")
            parts.append(f"<td{attrs}>{html.escape(text)}</td>")
        parts.append("</tr>")
    parts.append("</table>")
    return "".join(parts)


def render_pdf(forms: list[dict[str, Any]], path: str | Path) -> None:
    """Write the forms as a PDF with a text layer (MuPDF HTML layout), one form a page.

    A page is A4 wide and as tall as its form needs (at least A4): MuPDF re-flows a table's column
    widths on a continuation page, which no real form does, so forms are not split across pages.
    """
    from extractor.core.mupdf import pymupdf

    archive = pymupdf.Archive()
    archive.add(pymupdf.Font("cjk").buffer, "cjk.ttf")  # MuPDF's built-in Droid Sans Fallback
    writer = pymupdf.DocumentWriter(str(path))
    a4 = pymupdf.paper_rect("a4")
    for form in forms:
        probe = pymupdf.Story(html=form_html(form), user_css=_CSS, archive=archive)
        _more, filled = probe.place(pymupdf.Rect(36, 36, a4.width - 36, 20000))
        height = max(a4.height, pymupdf.Rect(filled).y1 + 48)
        mediabox = pymupdf.Rect(0, 0, a4.width, height)
        story = pymupdf.Story(html=form_html(form), user_css=_CSS, archive=archive)
        dev = writer.begin_page(mediabox)
        story.place(mediabox + (36, 36, -36, -36))
        story.draw(dev)
        writer.end_page()
    writer.close()
    doc = pymupdf.open(str(path))
    doc.subset_fonts()  # keep only the glyphs used: a few hundred KB instead of 3.5 MB
    doc.save(str(path) + ".tmp", garbage=3, deflate=True)
    doc.close()
    Path(str(path) + ".tmp").replace(path)


def _redrawn_pdf(forms: list[dict[str, Any]], path: str | Path, style: str, seed: int = 5) -> None:
    """The forms as :func:`render_pdf` prints them, with the table rules drawn as another program would.

    MuPDF draws every border as a thin filled bar. ``lines``: stroked lines along the bars, their ends
    off by up to 0.8 pt (gaps and overlaps at the crossings, as Word and WPS export them); ``boxes``:
    every cell its own stroked rectangle, 2 pt from its neighbours (converters that print a table cell
    by cell, web pages with cell spacing); ``sheet``: a white page background, grey label cells and the
    rules as long strokes, all under the text (a spreadsheet printed to PDF). The text layer is kept.
    """
    import random
    import tempfile

    from extractor.core.mupdf import pymupdf
    from extractor.ingest.pdf_grid import ruled_tables

    rng = random.Random(seed)
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "base.pdf"
        render_pdf(forms, base)
        doc = pymupdf.open(str(base))
        for page in doc:
            paths = page.get_cdrawings()
            bars = [tuple(p["rect"]) for p in paths]
            # the cells the bars close (the reader's own grid: what is tested is the drawing style)
            cells = [c for t in ruled_tables(paths) for r in t.rows for c in r.cells if c]
            page.add_redact_annot(page.rect)
            page.apply_redactions(images=pymupdf.PDF_REDACT_IMAGE_NONE,
                                  graphics=pymupdf.PDF_REDACT_LINE_ART_REMOVE_IF_TOUCHED,
                                  text=pymupdf.PDF_REDACT_TEXT_NONE)
            shape = page.new_shape()
            if style == "boxes":
                for c in cells:  # set apart by 2 pt: double rules between cells, as HTML cellspacing prints
                    shape.draw_rect(pymupdf.Rect(c) + (1, 1, -1, -1))
                shape.finish(color=(0, 0, 0), width=0.5)
                shape.commit()
                continue
            if style == "sheet":
                shape.draw_rect(page.rect)
                shape.finish(fill=(1, 1, 1), color=None, width=0)
                for c in [c for c in cells if c[0] < 80]:  # the first column's label cells
                    shape.draw_rect(pymupdf.Rect(c))
                shape.finish(fill=(0.85, 0.85, 0.85), color=None, width=0)
            for x0, y0, x1, y1 in bars:
                d = (lambda: rng.uniform(-0.8, 0.8)) if style == "lines" else (lambda: 0.0)
                if x1 - x0 >= y1 - y0:  # horizontal
                    y = (y0 + y1) / 2
                    shape.draw_line((x0 + d(), y), (x1 + d(), y))
                else:
                    x = (x0 + x1) / 2
                    shape.draw_line((x, y0 + d()), (x, y1 + d()))
            shape.finish(color=(0, 0, 0), width=0.6 if style == "lines" else 0.4)
            shape.commit(overlay=style != "sheet")
        doc.save(str(path), garbage=3, deflate=True)
        doc.close()


def render_pdf_lines(forms: list[dict[str, Any]], path: str | Path) -> None:
    """Rules as stroked lines with ragged ends (Word/WPS export)."""
    _redrawn_pdf(forms, path, "lines")


def render_pdf_boxes(forms: list[dict[str, Any]], path: str | Path) -> None:
    """Every cell its own stroked rectangle, double rules between cells."""
    _redrawn_pdf(forms, path, "boxes")


def render_pdf_sheet(forms: list[dict[str, Any]], path: str | Path) -> None:
    """A spreadsheet printed to PDF: background, shaded label cells, rules under the text."""
    _redrawn_pdf(forms, path, "sheet")


# ---- text layouts: Markdown pipe tables and a form flattened onto one line --------------------
def _grid_text_rows(form: dict[str, Any]) -> list[list[str]]:
    """The grid as 9 texts a row: a merged cell's text in its first slot, covered slots empty."""
    out = []
    for row in form_grid(form):
        texts: list[str] = []
        for text, cs, rs in row:
            texts.append("" if rs == 0 else text)
            texts.extend([""] * (cs - 1))
        out.append(texts)
    return out


def render_markdown(forms: list[dict[str, Any]], path: str | Path) -> None:
    """Markdown, as a PDF-to-Markdown converter writes it: a heading, then a pipe table."""
    lines: list[str] = []
    for form in forms:
        titles = _titles(form)
        if titles:
            lines.append("# " + "".join(titles))
            lines.append("")
        for k, row in enumerate(_grid_text_rows(form)):
            lines.append("| " + " | ".join(t.replace("|", "｜") for t in row) + " |")
            if k == 0:
                lines.append("|" + "---|" * len(row))
        lines.append("")
    Path(path).write_text("\n".join(lines), encoding="utf-8")


def render_flat(forms: list[dict[str, Any]], path: str | Path) -> None:
    """Each form on one line, cells separated by single spaces (a table copied from a web page)."""
    lines: list[str] = []
    for form in forms:
        lines.extend(_titles(form))
        cells = [t for row in _grid_text_rows(form) for t in row if t]
        lines.append(" ".join(cells))
        lines.append("")
    Path(path).write_text("\n".join(lines), encoding="utf-8")


def degrade(img, rng, dpi: int):  # type: ignore[no-untyped-def]
    """Make a clean page image look scanned: skew (±2°), blur, noise, a red stamp, JPEG artefacts."""
    import io

    import numpy as np
    from PIL import Image, ImageDraw, ImageFilter

    angle = float(rng.uniform(-2, 2))
    img = img.rotate(angle, resample=Image.BICUBIC, expand=False, fillcolor=(255, 255, 255))
    img = img.filter(ImageFilter.GaussianBlur(radius=float(rng.uniform(0.3, 0.8))))
    arr = np.asarray(img).astype(np.int16)
    arr = arr + rng.normal(0, 8, arr.shape).astype(np.int16)
    img = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
    stamp = Image.new("RGBA", img.size, (0, 0, 0, 0))
    d = ImageDraw.Draw(stamp)
    r = int(dpi * 0.7)
    cx, cy = int(img.width * rng.uniform(0.55, 0.8)), int(img.height * rng.uniform(0.1, 0.3))
    d.ellipse((cx - r, cy - r, cx + r, cy + r), outline=(220, 30, 30, 150), width=max(3, dpi // 40))
    d.regular_polygon((cx, cy, r // 3), 5, fill=(220, 30, 30, 120))
    img = Image.alpha_composite(img.convert("RGBA"), stamp).convert("RGB")
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=int(rng.integers(55, 75)))
    return Image.open(io.BytesIO(buf.getvalue())).convert("RGB"), angle


def photograph(img, rng, shift: float = 0.008, shear: float = 0.0):  # type: ignore[no-untyped-def]
    """Make a clean page image look photographed with a phone and cropped to the page, as scanning
    apps deliver it: leftover perspective (each corner moved by up to ``shift`` of the page width),
    a slant (the bottom edge moved sideways by ``shear`` of the page height), light falling off
    across the page, sensor noise."""
    import numpy as np
    from PIL import Image

    w, h = img.size
    d = shift * w
    src = [(0, 0), (w, 0), (w, h), (0, h)]
    dst = [(x + rng.uniform(-d, d) + shear * y, y + rng.uniform(-d, d)) for x, y in src]
    # PIL maps output to input: solve the 8 coefficients taking each dst corner to its src corner
    a, b = [], []
    for (x, y), (u, v) in zip(dst, src):
        a.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        a.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        b.extend([u, v])
    coeffs = np.linalg.solve(np.array(a, float), np.array(b, float))
    img = img.transform((w, h), Image.PERSPECTIVE, tuple(coeffs), Image.BICUBIC, fillcolor=(250, 250, 250))
    arr = np.asarray(img).astype(float)
    yy, xx = np.mgrid[0:h, 0:w]
    light = 0.78 + 0.22 * (1 - np.hypot(xx / w - rng.uniform(0, 1), yy / h - rng.uniform(0, 1)))
    arr = arr * light[:, :, None] + rng.normal(0, 5, arr.shape)
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))


def _a4_pieces(img, dpi: int):  # type: ignore[no-untyped-def]
    """A page image taller than A4 cut into A4-high pieces at table rules, as a printer breaks a long
    table: each cut is on the lowest horizontal rule that still fits the page."""
    import numpy as np

    limit = int(842 * dpi / 72) - int(72 * dpi / 72)  # A4 height less a margin
    if img.height <= limit + int(72 * dpi / 72):
        return [img]
    gray = np.asarray(img.convert("L"))
    dark = (gray < 128).mean(axis=1)
    rules = np.where(dark > 0.5)[0]  # rows mostly dark: horizontal rules
    # a row taller than a page is split between two of its text lines (Word does the same): a pixel
    # row crossed only by the vertical rules
    gaps = np.where(dark < 0.02)[0]
    inked = np.where(dark >= 0.02)[0]
    bottom = int(inked[-1]) + 1 if inked.size else img.height  # the white margin below is not content
    pieces, top = [], 0
    while bottom - top > limit:
        fits = rules[(rules > top + limit // 3) & (rules <= top + limit)]
        if fits.size:
            cut = int(fits[-1]) + 2
            pieces.append(img.crop((0, top, img.width, cut)))
            top = cut - 2  # the rule is drawn again at the top of the next page
            continue
        blank = gaps[(gaps > top + limit // 2) & (gaps <= top + limit)]
        cut = int(blank[-1]) if blank.size else top + limit
        pieces.append(img.crop((0, top, img.width, cut)))
        top = cut
    pieces.append(img.crop((0, top, img.width, img.height)))
    return pieces


def render_scan(forms: list[dict[str, Any]], path: str | Path, seed: int = 7, a4: bool = True) -> None:
    """An image-only PDF: each form rendered, rasterised at 150–200 dpi and degraded like a scan.

    With ``a4`` a form longer than a page continues on further A4 pages, its table cut at a row
    rule (a printed and scanned long form); otherwise it stays on one tall page.
    """
    import tempfile

    import numpy as np
    from PIL import Image

    from extractor.core.mupdf import pymupdf

    rng = np.random.default_rng(seed)
    with tempfile.TemporaryDirectory() as tmp:
        clean_pdf = Path(tmp) / "clean.pdf"
        render_pdf(forms, clean_pdf)
        out = pymupdf.open()
        n = 0
        with pymupdf.open(str(clean_pdf)) as src:
            for page in src:
                dpi = int(rng.choice([150, 175, 200]))
                pix = page.get_pixmap(dpi=dpi, alpha=False)
                full = Image.frombytes("RGB", (pix.width, pix.height), pix.samples)
                for k, piece in enumerate(_a4_pieces(full, dpi) if a4 else [full]):
                    if piece is not full:  # on an A4 sheet, a margin above a continued table
                        sheet = Image.new("RGB", (full.width, int(842 * dpi / 72)), (255, 255, 255))
                        sheet.paste(piece, (0, int(36 * dpi / 72) if k else 0))
                        piece = sheet
                    img, _ = degrade(piece, rng, dpi)
                    jpg = Path(tmp) / f"p{n}.jpg"
                    n += 1
                    img.save(jpg, "JPEG", quality=85, dpi=(dpi, dpi))
                    h_pt = img.height * 72 / dpi
                    p = out.new_page(width=page.rect.width, height=h_pt)
                    p.insert_image(p.rect, filename=str(jpg))
        out.save(str(path), deflate=True)
        out.close()


RENDERERS = {"docx": render_docx, "xlsx": render_xlsx, "pdf": render_pdf, "md": render_markdown,
             "flat.txt": render_flat, "scan.pdf": render_scan, "lines.pdf": render_pdf_lines,
             "boxes.pdf": render_pdf_boxes, "sheet.pdf": render_pdf_sheet}


def render_all(gold: dict[str, Any], out_dir: str | Path, formats: tuple[str, ...] = ("docx", "xlsx", "pdf"),
               stem: str | None = None) -> dict[str, Path]:
    """Render one gold file into each format; returns format -> path (``<stem>.<format>``)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = stem or Path(gold["source"]).stem
    made = {}
    for fmt in formats:
        p = out_dir / f"{stem}.{fmt}"
        RENDERERS[fmt](gold["forms"], p)
        made[fmt] = p
    return made
