"""Read Word (.docx) and Excel (.xlsx) files into rows, merged cells resolved.

Word: body paragraphs and tables in document order; a cell spanning columns (``gridSpan``) is one
cell, a cell continuing a vertical merge (``vMerge``) is empty, as in a printed form. The page text
is rebuilt in the shape of a Word text dump (one cell a line, led by a tab; rows separated by blank
lines) and every cell knows its span in it.

Excel: each sheet is a page; merged ranges keep their value in the top-left cell, cells covered
from the left are dropped and cells covered from above are empty. Percent formats print as ``100%``.
"""

from __future__ import annotations

import datetime as _dt
import zipfile

from extractor.core.document import Cell, Document, Page, Row, page_from_cells
from extractor.core.errors import IngestError

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _para_text(p) -> str:
    return "".join(t.text or "" for t in p.iter(f"{_W}t"))


def _cell_text(tc) -> str:
    return "".join(_para_text(p) for p in tc.iter(f"{_W}p")).strip()


def _vmerge_continue(tc) -> bool:
    tcpr = tc.find(f"{_W}tcPr")
    if tcpr is None:
        return False
    vm = tcpr.find(f"{_W}vMerge")
    return vm is not None and vm.get(f"{_W}val") in (None, "continue")


class _TextBuilder:
    def __init__(self) -> None:
        self.parts: list[str] = []
        self.pos = 0
        self.line = 1

    def add(self, s: str) -> tuple[int, int]:
        start = self.pos
        self.parts.append(s)
        self.pos += len(s)
        self.line += s.count("\n")
        return start, self.pos


def read_docx(path: str) -> Document:
    """A Word .docx file as one page of rows."""
    try:
        import docx
        d = docx.Document(path)
    except zipfile.BadZipFile as exc:
        raise IngestError(path, "Word文件已损坏或不是.docx格式", "请用Word或WPS打开后另存为.docx") from exc
    except Exception as exc:  # python-docx raises several types for broken packages
        raise IngestError(path, f"Word文件已损坏或无法打开（{type(exc).__name__}）",
                          "请用Word或WPS打开后另存为.docx；如设置了打开密码，请先去除") from exc
    tb = _TextBuilder()
    rows: list[Row] = []
    body = d.element.body
    for el in body.iterchildren():
        tag = el.tag.rsplit("}", 1)[-1]
        if tag == "p":
            text = _para_text(el).strip()
            if text:
                line = tb.line
                s, e = tb.add(text)
                tb.add("\n\n")
                rows.append(Row([Cell(text, s, e)], 1, line))
        elif tag == "tbl":
            for tr in el.iter(f"{_W}tr"):
                if tr.getparent() is not None and tr.getparent() is not el:
                    continue  # a nested table's row
                line = tb.line
                cells: list[Cell] = []
                for tc in tr.iterchildren(f"{_W}tc"):
                    text = "" if _vmerge_continue(tc) else _cell_text(tc)
                    tb.add("\t")
                    s, e = tb.add(text)
                    tb.add("\n")
                    cells.append(Cell(text, s, e))
                tb.add("\n")
                if cells:
                    rows.append(Row(cells, 1, line, exact=True))
    text = "".join(tb.parts)
    if not text.strip():
        raise IngestError(path, "Word文件中没有文字内容", "如为扫描图片，请提供原始文档")
    return Document(path, "docx", [Page(1, text, rows)])


def _xl_text(cell) -> str:
    v = cell.value
    if v is None:
        return ""
    if isinstance(v, bool):
        return "是" if v else "否"
    if isinstance(v, (int, float)):
        fmt = cell.number_format or ""
        if "%" in fmt:
            return f"{v * 100:.10g}%"
        return f"{v:.10g}" if isinstance(v, float) else str(v)
    if isinstance(v, (_dt.datetime, _dt.date)):
        return v.strftime("%Y-%m-%d") if not isinstance(v, _dt.datetime) or not v.time() else v.isoformat(sep=" ")
    return str(v).strip()


def read_xlsx(path: str) -> Document:
    """An Excel workbook; each sheet becomes a page."""
    try:
        import openpyxl
        wb = openpyxl.load_workbook(path, data_only=True)
    except zipfile.BadZipFile as exc:
        raise IngestError(path, "Excel文件已损坏或不是.xlsx格式", "请用Excel或WPS打开后另存为.xlsx") from exc
    except Exception as exc:  # openpyxl raises several types for broken or protected files
        raise IngestError(path, f"Excel文件已损坏或无法打开（{type(exc).__name__}）",
                          "如文件设置了打开密码，请先去除密码；否则请另存为.xlsx后重试") from exc
    out = Document(path, "xlsx")
    for n, ws in enumerate(wb.worksheets, start=1):
        covered_left: set[tuple[int, int]] = set()
        covered_above: set[tuple[int, int]] = set()
        for rng in ws.merged_cells.ranges:
            for r in range(rng.min_row, rng.max_row + 1):
                for c in range(rng.min_col, rng.max_col + 1):
                    if (r, c) == (rng.min_row, rng.min_col):
                        continue
                    (covered_left if c > rng.min_col else covered_above).add((r, c))
        rows: list[tuple[list[Cell], bool]] = []
        for r_idx, xrow in enumerate(ws.iter_rows(), start=1):
            cells: list[Cell] = []
            for cell in xrow:
                key = (r_idx, cell.column)
                if key in covered_left:
                    continue
                text = "" if key in covered_above else _xl_text(cell)
                cells.append(Cell(text))
            if any(c.text for c in cells):  # trailing empty cells are kept: columns must line up
                rows.append((cells, True))
        out.pages.append(page_from_cells(n, rows))
    if not any(p.rows for p in out.pages):
        raise IngestError(path, "Excel文件中没有内容", "请确认工作表是否为空")
    return out
