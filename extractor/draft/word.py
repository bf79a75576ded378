"""The one Word writer: a draft in the Markdown the drafting stage produces (and a reviewer edits)
becomes a .docx laid out as a government document (GB/T 9704-2012 党政机关公文格式): A4, the
standard margins, the title in 小标宋 (黑体 where absent) at 二号, headings in 黑体 at 三号, body in
仿宋 at 三号 with fixed 28-point lines and a two-character first-line indent, the annex as a real
table at 四号, page numbers ``— 1 —`` in the footer. Used by the CLI and the review app."""

from __future__ import annotations

import functools
import io
import shutil
import subprocess

# preferred faces, best first; the last of each is installed on every Windows and WPS machine
TITLE_FONTS = ("方正小标宋简体", "方正小标宋_GBK", "华文中宋", "黑体")
HEADING_FONTS = ("黑体",)
BODY_FONTS = ("仿宋_GB2312", "仿宋")
PT_TITLE, PT_BODY, PT_TABLE = 22, 16, 14  # 二号, 三号, 四号


@functools.lru_cache(maxsize=1)
def _installed() -> frozenset[str]:
    """Font family names fontconfig knows here (empty where it is absent)."""
    exe = shutil.which("fc-list")
    if exe is None:
        return frozenset()
    try:
        out = subprocess.run([exe, ":", "family"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return frozenset()
    return frozenset(name.strip() for line in out.splitlines() for name in line.split(","))


def pick_font(preferred: tuple[str, ...]) -> str:
    """The first preferred face installed here, else the last (the one every reader's machine has)."""
    have = _installed()
    return next((f for f in preferred if f in have), preferred[-1])


def _table_cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def _is_rule(line: str) -> bool:
    cells = _table_cells(line)
    return bool(cells) and all(c and set(c) <= set("-: ") for c in cells)


def _set_font(style_or_run, face: str, size: int, bold: bool = False) -> None:  # type: ignore[no-untyped-def]
    """Latin and East Asian faces both (Word takes Chinese glyphs from ``w:eastAsia``)."""
    from docx.oxml.ns import qn
    from docx.shared import Pt

    font = style_or_run.font
    font.name, font.size, font.bold = face, Pt(size), bold
    font.color.rgb = None
    element = style_or_run.element
    rpr = element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.append(fonts)
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attr), face)


def _page_number(paragraph) -> None:  # type: ignore[no-untyped-def]
    """``— PAGE —`` as a field, so Word numbers every page."""
    from docx.oxml.ns import qn

    def field(text: str | None, kind: str | None = None) -> None:
        run = paragraph.add_run()
        if kind is not None:
            el = run._r.makeelement(qn("w:fldChar"), {qn("w:fldCharType"): kind})
            run._r.append(el)
        elif text is not None:
            el = run._r.makeelement(qn("w:instrText"), {qn("xml:space"): "preserve"})
            el.text = text
            run._r.append(el)

    paragraph.add_run("— ")
    field(None, "begin")
    field(" PAGE ")
    field(None, "end")
    paragraph.add_run(" —")


def _document():  # type: ignore[no-untyped-def]
    import docx
    from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
    from docx.shared import Cm, Pt

    d = docx.Document()
    sec = d.sections[0]
    sec.page_width, sec.page_height = Cm(21.0), Cm(29.7)
    sec.top_margin, sec.bottom_margin = Cm(3.7), Cm(3.5)
    sec.left_margin, sec.right_margin = Cm(2.8), Cm(2.6)
    body, heading, title = pick_font(BODY_FONTS), pick_font(HEADING_FONTS), pick_font(TITLE_FONTS)
    normal = d.styles["Normal"]
    _set_font(normal, body, PT_BODY)
    pf = normal.paragraph_format
    pf.line_spacing_rule, pf.line_spacing = WD_LINE_SPACING.EXACTLY, Pt(28)
    pf.first_line_indent, pf.space_before, pf.space_after = Pt(PT_BODY * 2), Pt(0), Pt(0)
    pf.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    for name, face, size, centred in (("Heading 1", title, PT_TITLE, True), ("Heading 2", heading, PT_BODY, False)):
        st = d.styles[name]
        _set_font(st, face, size)
        hf = st.paragraph_format
        hf.line_spacing_rule, hf.line_spacing = WD_LINE_SPACING.EXACTLY, Pt(size + 12)
        hf.first_line_indent = Pt(0) if centred else Pt(PT_BODY * 2)
        hf.space_before, hf.space_after = Pt(12 if centred else 0), Pt(12 if centred else 0)
        hf.alignment = WD_ALIGN_PARAGRAPH.CENTER if centred else WD_ALIGN_PARAGRAPH.LEFT
    footer = sec.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _page_number(footer)
    for run in footer.runs:
        _set_font(run, "宋体", PT_TABLE)
    return d


def markdown_to_docx(markdown: str) -> bytes:
    """``#`` / ``##`` headings, paragraphs, and runs of ``| a | b |`` lines as Word tables (``|---|``
    rule lines are dropped; the first row is the table's header, repeated on every page)."""
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.oxml.ns import qn
    from docx.shared import Pt

    d = _document()
    body = pick_font(BODY_FONTS)
    lines = markdown.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("# "):
            d.add_heading(line[2:].strip(), level=1)
        elif line.startswith("## "):
            d.add_heading(line[3:].strip(), level=2)
        elif line.lstrip().startswith("|"):
            rows = []
            while i < len(lines) and lines[i].lstrip().startswith("|"):
                if not _is_rule(lines[i]):
                    rows.append(_table_cells(lines[i]))
                i += 1
            width = max(len(r) for r in rows)
            table = d.add_table(rows=0, cols=width)
            table.style = "Table Grid"
            table.alignment = WD_TABLE_ALIGNMENT.CENTER
            for k, r in enumerate(rows):
                row = table.add_row()
                if k == 0:
                    trpr = row._tr.get_or_add_trPr()
                    trpr.append(trpr.makeelement(qn("w:tblHeader"), {}))
                for cell, text in zip(row.cells, r + [""] * (width - len(r))):
                    cell.text = text
                    for p in cell.paragraphs:
                        p.paragraph_format.first_line_indent = Pt(0)
                        p.paragraph_format.line_spacing = Pt(PT_TABLE + 6)
                        for run in p.runs:
                            _set_font(run, body, PT_TABLE, bold=k == 0)
            continue
        elif line.strip():
            d.add_paragraph(line)
        i += 1
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()
