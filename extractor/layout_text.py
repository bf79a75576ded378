"""Split plain text into rows of cells, whatever dump produced it.

Text reaches us in several shapes, often mixed in one file:

* PDF dumps: one table row per line, cells separated by tabs (empty cells kept, merged cells
  shifting the columns);
* Word dumps: one cell per line led by a tab, lines without a tab continuing the cell above,
  blank lines between rows (and, from empty paragraphs, sometimes inside a row);
* Markdown / pipe tables: ``| a | b |``;
* layout-preserving dumps: cells separated by runs of two or more spaces;
* a whole form flattened onto one line (handled by :mod:`extractor.layout_flat`).

Each line block is classified on its own, so a file may mix them.
"""

from __future__ import annotations

import re

from extractor.document import Cell, Row
from extractor.labels import is_page_marker, is_template_name, level_kind, starts_row
from extractor.layout_flat import split_flat_line

_WS = " \t\r\u3000\xa0\f\v"
_PIPE_SEP = re.compile(r"^\|?[\s:\-|]+\|?$")
_SPACE_RUN = re.compile(r"[ \u3000\xa0]{2,}")
NUMBER = re.compile(r"^[-+]?[\d,，.．%％]+$")
# A line that starts a new heading even though it has no tab (it never continues a Word cell).
_HEADING = re.compile(r"自评表|评价表|^[（(]\s*\d{4}\s*年度?\s*[)）]$|^\d+\s*[.、．]\s*\S")


def _lines(text: str) -> list[tuple[int, int, str]]:
    """(line number, start offset, line text) for every line."""
    out = []
    pos = 0
    for n, line in enumerate(text.split("\n"), start=1):
        out.append((n, pos, line.rstrip("\r")))
        pos += len(line) + 1
    return out


def _is_blank(line: str) -> bool:
    return line.strip(" \r\u3000\xa0\f\v") == "" or is_page_marker(line)


def _has_inner_tab(line: str) -> bool:
    """True when a tab separates two pieces of content (a PDF-style row)."""
    s = line.strip(_WS)
    return "\t" in s


def _cell(text: str, start: int, end: int) -> Cell:
    # trim but keep the span on the visible text
    lead = len(text) - len(text.lstrip(_WS))
    trail = len(text) - len(text.rstrip(_WS))
    return Cell(text.strip(_WS), start + lead, end - trail)


def _split_tabs(line: str, start: int) -> list[Cell]:
    cells = []
    pos = start
    for part in line.split("\t"):
        cells.append(_cell(part, pos, pos + len(part)))
        pos += len(part) + 1
    return cells


_BR = re.compile(r"<br\s*/?>", re.I)


def _split_pipes(line: str, start: int) -> list[Cell]:
    s = line.strip()
    off = start + line.index(s[0]) if s else start
    if s.startswith("|"):
        s, off = s[1:], off + 1
    if s.endswith("|"):
        s = s[:-1]
    cells = []
    pos = off
    for part in s.split("|"):
        c = _cell(part, pos, pos + len(part))
        if "<" in c.text:
            c.text = _BR.sub("", c.text)  # line breaks inside a Markdown cell
        cells.append(c)
        pos += len(part) + 1
    return cells


def _split_spaces(line: str, start: int) -> list[Cell]:
    cells = []
    pos = 0
    for m in _SPACE_RUN.finditer(line):
        if m.start() > pos:
            cells.append(_cell(line[pos:m.start()], start + pos, start + m.start()))
        pos = m.end()
    if pos < len(line):
        cells.append(_cell(line[pos:], start + pos, start + len(line)))
    return [c for c in cells if c.text] or [_cell(line, start, start + len(line))]


def _merge_wrapped(prev: tuple[Row, int], cells: list[Cell], line_start: int) -> bool:
    """Join a layout-preserving line that only continues cells of the line above (a wrapped cell).

    Every piece must start under a cell of the row above (same character column, +-2), hold no
    bare number and no label; then each piece is appended to the cell it sits under.
    """
    row, prev_start = prev
    if not cells or len(cells) >= len(row.cells) or len(row.cells) < 2:
        return False
    cols = [(c.start - prev_start, c) for c in row.cells if c.text]
    targets = []
    for c in cells:
        t = c.text
        if NUMBER.match(t) or is_template_name(t) or starts_row(t) or level_kind(t) or t.startswith("指标"):
            return False
        col = c.start - line_start
        hit = next((pc for pcol, pc in cols if abs(pcol - col) <= 2), None)
        if hit is None or hit in targets:
            return False
        targets.append(hit)
    for c, pc in zip(cells, targets):
        pc.text += c.text
        pc.end = c.end
    return True


def _word_block(block: list[tuple[int, int, str]], page: int, soft: bool) -> Row | None:
    """One Word-dump row: tab-led lines are cells, other lines continue the cell above."""
    cells: list[Cell] = []
    first_line = block[0][0]
    for _n, start, line in block:
        if line.startswith("\t"):
            body = line.lstrip("\t")
            if body.strip(_WS) == "" and line.count("\t") > 1:
                continue  # a stray line of tabs
            off = start + (len(line) - len(body))
            cells.append(_cell(body, off, off + len(body)))
        elif cells:
            c = cells[-1]
            extra = line.strip(_WS)
            if extra:
                c.text += extra
                c.end = start + len(line.rstrip(_WS))
                if c.start < 0:
                    c.start = start
        else:
            cells.append(_cell(line, start, start + len(line)))
    if not cells:
        return None
    return Row(cells, page, first_line, soft_break=soft, exact=True)


def rows_from_text(text: str, page: int = 1) -> list[Row]:
    """Split a page of text into rows."""
    lines = _lines(text)
    blocks: list[list[tuple[int, int, str]]] = []
    cur: list[tuple[int, int, str]] = []
    for item in lines:
        if _is_blank(item[2]) and "\t" not in item[2]:
            if cur:
                blocks.append(cur)
                cur = []
        else:
            cur.append(item)
    if cur:
        blocks.append(cur)

    rows: list[Row] = []
    prev_word = False
    for block in blocks:
        n_lead = sum(1 for _, _, ln in block if ln.startswith("\t") and not _has_inner_tab(ln))
        n_inner = sum(1 for _, _, ln in block if _has_inner_tab(ln))
        n_plain = sum(1 for _, _, ln in block if "\t" not in ln)
        if n_lead and n_lead >= n_inner:
            # Word dump. Leading plain lines either continue the previous row's last cell
            # (a cell broken by an empty paragraph) or are headings.
            i = 0
            while i < len(block) and not block[i][2].startswith("\t"):
                n, start, ln = block[i]
                if prev_word and rows and not _HEADING.search(ln.strip()):
                    c = rows[-1].cells[-1]
                    c.text += ln.strip(_WS)
                    c.end = start + len(ln.rstrip(_WS))
                else:
                    rows.append(Row([_cell(ln, start, start + len(ln))], page, n))
                i += 1
            row = _word_block(block[i:], page, soft=prev_word)
            if row:
                rows.append(row)
            prev_word = True
            continue
        if n_plain == len(block) and prev_word and rows:
            # only plain lines after a Word row: a cell continued across blank lines,
            # unless it reads like a heading
            if not any(_HEADING.search(ln.strip()) for _, _, ln in block):
                c = rows[-1].cells[-1]
                for _, start, ln in block:
                    c.text += ln.strip(_WS)
                    c.end = start + len(ln.rstrip(_WS))
                continue
        prev_word = False
        plain_rows: list[tuple[Row, int]] = []
        for n, start, ln in block:
            if "\t" in ln:
                rows.append(Row(_split_tabs(ln, start), page, n))
            elif ln.lstrip().startswith("|"):
                if _PIPE_SEP.match(ln.strip()):
                    continue
                rows.append(Row(_split_pipes(ln, start), page, n, exact=True))
            else:
                flat = split_flat_line(ln, start, page, n)
                if flat is not None:
                    rows.extend(flat)
                elif plain_rows and plain_rows[-1][0] is rows[-1] and _merge_wrapped(
                        plain_rows[-1], _split_spaces(ln, start), start):
                    continue
                else:
                    rows.append(Row(_split_spaces(ln, start), page, n))
                    plain_rows.append((rows[-1], start))
    return rows
