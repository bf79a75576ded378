"""Read PDFs with a text layer: tables by ruling lines, cell text by character position.

The grid comes from the page's drawing commands (:mod:`extractor.ingest.pdf_grid`); pymupdf's
``find_tables`` only where that finds none among drawn paths or fuses two labels. Each character of
one ``rawdict`` pass is placed in the cell whose box holds its centre and cells are read line by
line (``find_tables``' own ``extract()`` reorders punctuation in pymupdf 2.0). A ``None`` in the grid is a merged cell: covered from the left (a
column span) it is dropped, covered from above (a row span) it becomes an empty cell, as in a Word
table. Text outside tables (title, year) becomes one-cell rows. Each page's text is rebuilt from
its rows, so every cell has both a span in that text and a bounding box.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from math import inf

from extractor.core.document import Cell, Document, Page, page_from_cells
from extractor.core.errors import IngestError
from extractor.core.figures import clean
from extractor.core.mupdf import pymupdf
from extractor.core.vocabulary import is_label, is_page_marker
from extractor.ingest.pdf_grid import ruled_tables

_TOL = 1.5
# labels that never share a cell: two of them in one cell means two rows were fused
_KEY_LABELS = ("项目名称", "主管部门", "年度资金总额", "财政拨款", "上年结转", "其他资金", "预期目标",
               "一级指标", "三级指标", "产出指标", "效益指标", "满意度指标", "数量指标", "质量指标",
               "时效指标", "总分")


Char = tuple[float, float, float, float, str]
Line = tuple[tuple[float, float, float, float], str]


def _chars(page: pymupdf.Page) -> tuple[list[Char], list[Line]]:
    """(x-centre, y-centre, x0, y0, char) for every character on the page, and every text line with its
    box, from one ``rawdict`` pass."""
    out: list[Char] = []
    lines: list[Line] = []
    raw = page.get_text("rawdict", flags=pymupdf.TEXT_PRESERVE_WHITESPACE | pymupdf.TEXT_MEDIABOX_CLIP)
    for block in raw.get("blocks", []):
        for line in block.get("lines", []):
            text = []
            for span in line.get("spans", []):
                for ch in span.get("chars", []):
                    x0, y0, x1, y1 = ch["bbox"]
                    out.append(((x0 + x1) / 2, (y0 + y1) / 2, x0, y0, ch["c"]))
                    text.append(ch["c"])
            lines.append((tuple(line["bbox"]), "".join(text)))
    return out, lines


def _join_chars(chars: list[tuple[float, float, float, float, str]]) -> str:
    """Characters in reading order; lines inside a cell are joined without a separator."""
    if not chars:
        return ""
    chars.sort(key=lambda c: (c[1], c[0]))
    lines: list[list[tuple[float, float, float, float, str]]] = []
    for ch in chars:
        if lines and abs(lines[-1][0][1] - ch[1]) < 3:
            lines[-1].append(ch)
        else:
            lines.append([ch])
    return "".join("".join(c[4] for c in sorted(ln, key=lambda c: c[0])) for ln in lines).strip()


def _vertical_rules(drawings: list[dict]) -> list[tuple[float, float, float]]:
    """(x, y0, y1) of every thin vertical stroke or filled bar on the page (``get_cdrawings``), by x."""
    out = []
    for d in drawings:
        for item in d["items"]:
            if item[0] == "l":
                (ax, ay), (bx, by) = item[1], item[2]
                if abs(ax - bx) < 1.5 and abs(ay - by) > 4:
                    out.append(((ax + bx) / 2, min(ay, by), max(ay, by)))
            elif item[0] == "re":
                x0, y0, x1, y1 = item[1]
                if x1 - x0 < 2.5 and y1 - y0 > 4:
                    out.append(((x0 + x1) / 2, y0, y1))
    out.sort()
    return out


def _split_by_rules(box: tuple[float, float, float, float], rules) -> list[tuple[float, float, float, float]]:
    """Split a cell where a vertical rule crosses most of its height (a divider the grid missed)."""
    x0, y0, x1, y1 = box
    h = y1 - y0
    inner = rules[bisect_right(rules, (x0 + 4, inf, inf)):bisect_left(rules, (x1 - 4, -inf, -inf))]
    cuts = sorted({round(x, 1) for x, ry0, ry1 in inner if min(y1, ry1) - max(y0, ry0) >= 0.35 * h})
    if not cuts:
        return [box]
    edges = [x0, *cuts, x1]
    return [(edges[i], y0, edges[i + 1], y1) for i in range(len(edges) - 1)]


def _table_rows(table, chars, rules) -> list[tuple[float, list[Cell]]]:
    rows = table.rows
    xs = sorted({round(c[0], 1) for r in rows for c in r.cells if c})
    tx0, ty0, tx1, ty1 = table.bbox
    inside = [c for c in chars if tx0 - _TOL <= c[0] <= tx1 + _TOL and ty0 - _TOL <= c[1] <= ty1 + _TOL]
    # each row: its cell slots, a real cell becoming one or more boxes
    layout: list[list[tuple[float, float, float, float] | None]] = []
    for r in rows:
        slots: list[tuple[float, float, float, float] | None] = []
        covered: list[tuple[float, float]] = []
        for ci, c in enumerate(r.cells):
            if c:
                parts = _split_by_rules(tuple(c), rules)
                slots.extend(parts)
                covered.append((c[0], c[2]))
                continue
            col_x0 = xs[ci] if ci < len(xs) else None
            if col_x0 is not None and any(a - _TOL < col_x0 < b - _TOL for a, b in covered):
                continue  # covered by the cell to the left: a column span
            slots.append(None)  # covered from above: a row span
        layout.append(slots)
    boxes = [(ri, si, b) for ri, slots in enumerate(layout) for si, b in enumerate(slots) if b]
    boxes.sort(key=lambda b: b[2][1])
    y0s = [b[2][1] for b in boxes]
    buckets: dict[tuple[int, int], list] = {}
    orphans = []
    # the box a character falls in: the lowest-starting one above it that holds it (boxes widened by _TOL)
    reach = [(b[2][0] - _TOL, b[2][1] - _TOL, b[2][2] + _TOL, b[2][3] + _TOL) for b in boxes]
    for ch in inside:
        cx, cy = ch[0], ch[1]
        for k in range(bisect_right(y0s, cy + 0.01) - 1, -1, -1):
            x0, y0, x1, y1 = reach[k]
            if x0 <= cx <= x1 and y0 <= cy <= y1:
                buckets.setdefault(boxes[k][:2], []).append(ch)
                break
        else:
            if ch[4].strip():
                orphans.append(ch)
    out: list[tuple[float, list[Cell]]] = []
    for ri, slots in enumerate(layout):
        cells = [Cell(_join_chars(buckets.get((ri, si), [])), bbox=tuple(round(v, 2) for v in b)) if b else Cell("")
                 for si, b in enumerate(slots)]
        y = rows[ri].bbox[1] if rows[ri].bbox else 0
        out.append((y, cells))
    out.extend(_orphan_rows(orphans, xs + [tx1]))
    out.sort(key=lambda it: it[0])
    return out


def _orphan_rows(chars, edges: list[float]) -> list[tuple[float, list[Cell]]]:
    """Rows the grid missed (a rule drawn short): text inside the table but in no cell.

    Characters are banded into lines and each is placed in the grid column under it, so the
    text is kept as a row in the grid's columns instead of being dropped.
    """
    if not chars:
        return []
    chars.sort(key=lambda c: c[1])
    bands: list[list] = [[chars[0]]]
    for ch in chars[1:]:
        if ch[1] - bands[-1][-1][1] < 6:
            bands[-1].append(ch)
        else:
            bands.append([ch])
    out = []
    ncols = len(edges) - 1
    for band in bands:
        cols: dict[int, list] = {}
        for ch in band:
            ci = max(0, min(ncols - 1, bisect_right(edges, ch[0]) - 1))
            cols.setdefault(ci, []).append(ch)
        y0 = min(c[3] for c in band)
        cells = []
        for ci in range(ncols):
            got = cols.get(ci)
            if got:
                box = (min(c[2] for c in got), y0, max(c[2] for c in got) + 8, max(c[1] for c in got) + 4)
                cells.append(Cell(_join_chars(got), bbox=tuple(round(v, 2) for v in box)))
            else:
                cells.append(Cell(""))
        out.append((y0, cells))
    return out


def _grid_score(rows: list[tuple[float, list[Cell]]]) -> tuple[int, int]:
    """(cells that read as a whole label, cells holding two fused labels)."""
    good = bad = 0
    for _y, cells in rows:
        for c in cells:
            t = clean(c.text)
            if not t:
                continue
            if is_label(t):
                good += 1
            if sum(1 for k in _KEY_LABELS if k in t) >= 2:
                bad += 1
    return good, bad


def _find_grid(page: pymupdf.Page, chars, drawings: list[dict]) -> tuple[list, list[tuple[float, list[Cell]]]]:
    """Tables on a page: the grid its rules draw (:mod:`extractor.ingest.pdf_grid`); pymupdf's
    ``find_tables`` (plain, then refined) only where that finds no table among drawn paths, or fuses
    two labels into one cell."""
    rules = _vertical_rules(drawings)
    tables: list = ruled_tables(drawings)
    rows = [r for t in tables for r in _table_rows(t, chars, rules)]
    good, bad = _grid_score(rows)
    best = (good - 3 * bad, tables, rows)
    if (tables and bad == 0) or not drawings:
        return tables, rows
    for refine in (False, True):
        tables = list(page.find_tables(use_layout=False, refine=refine))
        rows = [r for t in tables for r in _table_rows(t, chars, rules)]
        good, bad = _grid_score(rows)
        if good - 3 * bad > best[0]:
            best = (good - 3 * bad, tables, rows)
        if tables and bad == 0:
            break
    return best[1], best[2]


def _text_lines(lines: list[Line], tables) -> list[tuple[float, list[Cell]]]:
    """Lines of text outside tables, as one-cell rows."""
    boxes = [tuple(t.bbox) for t in tables]
    out = []
    for (x0, y0, x1, y1), raw in lines:
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        if any(b[0] <= cx <= b[2] and b[1] <= cy <= b[3] for b in boxes):
            continue
        text = raw.strip()
        if text and not is_page_marker(text):
            out.append((y0, [Cell(text, bbox=(round(x0, 2), round(y0, 2), round(x1, 2), round(y1, 2)))]))
    return out


def read_pdf(path: str, *, min_chars: int = 20, ocr: bool = True) -> Document:
    """A PDF with a text layer."""
    try:
        doc = pymupdf.open(path)
    except Exception as exc:  # pymupdf raises its own FileDataError and RuntimeError types
        raise IngestError(path, f"PDF文件已损坏或不是PDF（{type(exc).__name__}）",
                          "请重新导出或下载该文件；如为扫描件图片，请另存为PDF后重试") from exc
    with doc:
        if doc.needs_pass or doc.is_encrypted:
            raise IngestError(path, "PDF文件已加密（需要密码）", "请用原始软件去除打开密码后重新导出")
        try:
            doc.page_count
        except RuntimeError as exc:  # cut before its page tree: pymupdf cannot even count the pages
            raise IngestError(path, f"PDF文件不完整（可能下载或拷贝时被截断），无法读取页面（{exc}）",
                              "请重新获取完整文件") from exc
        if doc.page_count == 0:
            raise IngestError(path, "PDF没有任何页面", "请确认文件是否完整")
        out = Document(path, "pdf")
        if doc.is_repaired:  # cut short or damaged: pymupdf rebuilt its table of objects
            out.warnings.append("PDF文件已损坏（可能下载或拷贝不完整），已尽量修复读取；可能有页面或内容缺失，"
                                "请与原件核对，最好重新获取完整文件")
        empty_pages = []
        by_index: dict[int, Page] = {}
        for page in doc:
            chars, lines = _chars(page)
            if len(chars) < min_chars:
                empty_pages.append(page.number + 1)
                continue
            try:
                tables, table_rows = _find_grid(page, chars, page.get_cdrawings()) if chars else ([], [])
            except Exception:  # a malformed page must not stop the document
                tables, table_rows = [], []
                out.warnings.append(f"第{page.number + 1}页表格检测失败，按纯文本读取")
            items: list[tuple[float, list[Cell]]] = list(table_rows)
            exact = {id(cells) for _y, cells in table_rows}
            items.extend(_text_lines(lines, tables))
            items.sort(key=lambda it: it[0])
            p = page_from_cells(page.number + 1, [(cells, id(cells) in exact) for _y, cells in items])
            p.width, p.height = page.rect.width, page.rect.height
            by_index[page.number] = p
        if ocr and empty_pages:  # scanned pages: in parallel, cached, resumable
            from extractor.ocr.pages import ocr_pages
            by_index.update(ocr_pages(path, "pdf", [n - 1 for n in empty_pages]))
        out.pages = [by_index[i] for i in sorted(by_index)]
        if empty_pages and not ocr and len(empty_pages) == doc.page_count:
            raise IngestError(path, "PDF没有文字层（可能是扫描件）", "请去掉 --no-ocr 以启用扫描件识别")
        if empty_pages:
            out.kind = "pdf-scan" if len(empty_pages) == doc.page_count else "pdf-mixed"
            out.warnings.append(f"以下页面没有文字层，已用OCR识别，请重点核对：{empty_pages}" if ocr
                                else f"以下页面没有文字层，未能读取：{empty_pages}")
        if ocr and empty_pages and not any(p.rows for p in out.pages):
            raise IngestError(path, "扫描件中没有识别出文字", "请确认扫描清晰、方向正确")
        return out
