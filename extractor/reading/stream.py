"""Every input as one stream of cells, each with its span and the boundary before it.

Readers that know the grid (PDF tables, Word, Excel, OCR, CSV) hand over rows of cells; text
dumps hand over their text, which is cut here at every mark a converter may leave between cells:
tabs, pipes, runs of spaces, single spaces, line breaks, blank lines. The marks are kept as
evidence (:class:`Sep`), not trusted: the table readers decide what is a row.

Two repairs happen here because they need the raw text: a label broken by a space or a line break
(``年初预 算数``) is joined back, and glued text (``项目名称社区路灯改造主管部门…``) is cut where labels
and figures begin.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from dataclasses import dataclass
from enum import IntEnum
from functools import lru_cache

from extractor.core.document import Document, Page
from extractor.core.lazy_regex import lazy_compile
from extractor.core.vocabulary import (
    SHORT_CUTS,
    SHORT_LABELS,
    TITLE_WORDS,
    Label,
    find_labels,
    fold,
    fold_with_map,
    is_page_marker,
    is_title,
    level_of,
    match,
    may_begin_label,
    split_label_run,
    strip_pinyin,
)
from extractor.reading.values import Kind, atoms, kind_of


class Sep(IntEnum):
    """The boundary before a cell, weakest first."""

    NONE = 0  # cut out of glued text
    SPACE = 1
    SPACES = 2
    CELL = 3  # tab, pipe, or a grid's next cell
    LINE = 4
    BLANK = 5  # one or more blank lines
    ROW = 6  # a grid's next row
    PAGE = 7


_NO_KIND = kind_of("")


@dataclass(slots=True)
class Token:
    """One cell of the stream."""

    text: str
    page: int
    start: int
    end: int
    sep: Sep
    blank: int = 0  # blank lines before (cell-per-line dumps)
    bbox: tuple[float, float, float, float] | None = None
    conf: float | None = None
    row: int = -1  # grid row number, -1 when the source has no grid
    col: int = -1
    glued: bool = False
    label: Label | None = None
    kind: Kind = _NO_KIND
    name_hint: bool = False  # a reader found this cell to be an indicator's name (names.py)

    @property
    def empty(self) -> bool:
        return self.kind.name == "empty" or not self.text.strip()


_MD_SEP = lazy_compile(r"^\|?[\s:\-|]+\|?$")
_DOC_PAGE = lazy_compile(r"^(\d{1,3})、")
_BR = lazy_compile(r"<br\s*/?>", re.I)
# a line that starts a heading even though it has no tab (it never continues a Word cell)
_HEADING = lazy_compile(r"自评表|评价表|^[（(]\s*\d{4}\s*年度?\s*[)）]$|^\d+\s*[.、．]\s*\S")
_WS = " \t\r\u3000\xa0\f\v"


@lru_cache(maxsize=131072)
def _trim(text: str, start: int) -> tuple[str, int, int]:
    lead = len(text) - len(text.lstrip(_WS))
    body = text.strip(_WS)
    return body, start + lead, start + lead + len(body)


def _clean(text: str) -> str:
    if "<" in text:
        text = _BR.sub("", text)
    return strip_pinyin(text) if "(" in text else text


def _split_line(line: str, start: int, word_dump: bool) -> list[tuple[str, int, int, Sep]]:
    """Cells of one text line with the boundary before each (the first one's is set by the caller)."""
    s = line.rstrip(_WS)
    if word_dump and s.startswith("\t") and s.count("\t") == 1:
        body = s[1:].strip(_WS)  # a Word dump's cell: one a line, led by its tab
        a = start + 1 + (len(s) - 1 - len(s[1:].lstrip(_WS)))
        return [(body, a, a + len(body), Sep.CELL)]
    if "\t" in s:
        parts = s.split("\t")
        if word_dump and parts and not parts[0].strip(_WS):
            # a Word dump leads each cell with a tab: the tab is not an empty cell
            k = 0
            while k < len(parts) - 1 and not parts[k].strip(_WS):
                k += 1
            offset = sum(len(p) + 1 for p in parts[:k])
            parts = parts[k:]
            pos = start + offset
        else:
            pos = start
        out = []
        for i, p in enumerate(parts):
            body, a, b = _trim(p, pos)
            out.append((body, a, b, Sep.CELL))
            pos += len(p) + 1
        return out
    if "|" in s:
        st = s.strip(_WS)
        if st == "|":
            i = start + line.index("|")
            return [("", i, i, Sep.CELL)]
        parts = s.split("|")
        pos = start
        out = []
        for i, p in enumerate(parts):
            body, a, b = _trim(p, pos)
            pos += len(p) + 1
            if (i == 0 or i == len(parts) - 1) and not body:
                continue  # the table's outer border
            if i == 0 and len(body) > 60 and " " in body:
                # text before a table flattened onto its line (page chrome, the form's title): words,
                # not a cell
                out.extend((m.group(), a + m.start(), a + m.end(), Sep.SPACE) for m in re.finditer(r"\S+", body))
                continue
            out.append((body, a, b, Sep.CELL))
        return out
    out = []
    for m in re.finditer(r"[^ \u3000\xa0\t]+", s):
        sep = Sep.SPACE
        if out:
            run = s[out[-1][2] - start:m.start()]
            sep = Sep.SPACES if len(run) >= 2 or "\u3000" in run else Sep.SPACE
        out.append((m.group(0), start + m.start(), start + m.end(), sep))
    return out


def _word_dump(text: str) -> bool:
    """A Word text dump: most lines with a tab hold one cell led by a tab."""
    led = inner = 0
    for line in text.split("\n"):
        if "\t" not in line:
            continue
        body = line.strip(_WS)
        if line.startswith("\t") and "\t" not in body:
            led += 1
        elif "\t" in body:
            inner += 1
    return led > 3 and led >= inner


def _layout_cells(raw: str, cells: list[tuple[str, int, int, Sep]], start: int) -> list[tuple[int, int, int]]:
    """(character column, first piece, last piece) of each cell a space-aligned line holds."""
    out: list[tuple[int, int, int]] = []
    for k, (_t, a, _b, sep) in enumerate(cells):
        if k == 0 or sep != Sep.SPACE:
            out.append((a - start, k, k))
        else:
            col, first, _last = out[-1]
            out[-1] = (col, first, k)
    return out


def _wraps(prev: list[tuple[int, int, int]], cur: list[tuple[int, int, int]],
           cells: list[tuple[str, int, int, Sep]], out: list[Token]) -> bool:
    """Join a line that only continues cells of the line above (a wrapped cell in a layout dump):
    every cell starts under a cell above (same character column, +-2) and holds no bare figure,
    no label, no numbered name. Each is appended to the cell it sits under."""
    if not cur or len(prev) < 2 or len(cur) >= len(prev):
        return False
    targets: list[int] = []
    for col, first, last in cur:
        text = "".join(cells[k][0] for k in range(first, last + 1))
        k = kind_of(text)
        if k.name in ("number", "percent", "amount") or match(text) is not None or re.match(r"^(?:指标|目标)\s*\d", text):
            return False
        hit = next((lt for pcol, _f, lt in prev if abs(pcol - col) <= 2), None)
        if hit is None or hit in targets:
            return False
        targets.append(hit)
    for (col, first, last), ti in zip(cur, targets):
        t = out[ti]
        t.text += "".join(_clean(cells[k][0]) for k in range(first, last + 1))
        t.end = cells[last][2]
    return True


_FIGURE_START = frozenset("0123456789.%")
_TRAILING_DIGITS = lazy_compile(r"\d+$")


def _cell_per_line(text: str) -> bool:
    """Whether a page prints one cell a line: nearly every line is one piece (no tab, no pipe, no
    run of spaces, few single spaces), as a web table copied into text is."""
    lines = [ln.strip() for ln in text.split("\n") if ln.strip()]
    if len(lines) < 12 or any("\t" in ln or "|" in ln or "  " in ln for ln in lines[:400]):
        return False
    spaced = sum(1 for ln in lines if " " in ln)
    return spaced <= 0.15 * len(lines)


def text_tokens(page: Page) -> list[Token]:
    """The cells of a text page."""
    text = page.text
    word_dump = _word_dump(text)
    cell_page = not word_dump and _cell_per_line(text)
    pno = page.number
    out: list[Token] = []
    pos = 0
    blank = 0
    after_page = False
    prev_len = 0
    prev_tab = False
    prev_layout: list[tuple[int, int, int]] = []
    next_doc_page = 1
    for line in text.split("\n"):
        start = pos
        pos += len(line) + 1
        raw = line.rstrip("\r")
        body = raw.strip(_WS)
        if word_dump and not body and raw.startswith("\t") and raw.count("\t") == 1:
            # a Word dump prints an empty cell as a line holding its leading tab
            out.append(Token("", pno, start + 1, start + 1, Sep.BLANK if blank else Sep.LINE, blank))
            blank = 0
            prev_tab = True
            continue
        if not body or "\f" == body:
            blank += 1
            if "\f" in raw:
                after_page = True
            continue
        if word_dump and not raw.startswith("\t") and "\t" not in raw and prev_tab and out \
                and (not blank and (out[-1].text or out[-1].start == out[-1].end)
                     or out[-1].text and blank <= 2 and not _HEADING.search(body)):
            # a line without its tab continues the Word cell above (a line break inside the cell)
            t = out[-1]
            lead = len(raw) - len(raw.lstrip(_WS))
            if not t.text:
                t.start = start + lead
            t.text += _clean(body)
            t.end = start + lead + len(body)
            prev_len = len(body)
            blank = 0
            continue
        if len(body) <= 24 and (is_page_marker(body) or _MD_SEP.match(body) and ("|" in body or "---" in body)) \
                or len(body) > 24 and body[0] == "|" and _MD_SEP.match(body):
            after_page = after_page or is_page_marker(body)
            blank += 1
            continue
        glue_prev = False
        m = _DOC_PAGE.match(body) if body[0].isdigit() else None
        if m and int(m.group(1)) == next_doc_page and (prev_len >= 120 or len(body) >= 120):
            # a document site's page number ("2、") in front of a page's run of text
            cut = raw.index(body) + m.end()
            raw = " " * cut + raw[cut:]
            next_doc_page += 1
            glue_prev = bool(out) and prev_len >= 120
        cells = _split_line(raw, start, word_dump)
        if cell_page and len(cells) > 1 and all(c[3] == Sep.SPACE for c in cells[1:]):
            # one cell a line (a copied web table): a single space inside a line is inside its cell
            cells = [(raw[cells[0][1] - start: cells[-1][2] - start], cells[0][1], cells[-1][2], cells[0][3])]
        layout = _layout_cells(raw, cells, start) if "\t" not in raw and "|" not in raw else []
        if prev_layout and not glue_prev and not blank and _wraps(prev_layout, layout, cells, out):
            prev_len = len(body)
            continue  # a layout dump's wrapped cells: joined to the cells above them
        prev_layout = layout if "\t" not in raw and "|" not in raw else []
        gridded = "\t" in raw or "|" in raw  # tab and pipe cells keep their column in the line
        lead_cells = 1 if "|" in raw and not raw.lstrip(_WS).startswith("|") else 0
        for k, (t, a, b, sep) in enumerate(cells):
            if k == 0 and glue_prev and t[:1] in _FIGURE_START and out[-1].page == page.number:
                # the page break fell inside a figure (``完成10`` | ``2、`` | ``0%100%10``): its digits
                # before the break go with the rest of it
                last = out[-1]
                run = _TRAILING_DIGITS.search(last.text)
                if run and run.start() > 0:
                    cut = len(last.text) - run.start()
                    out[-1] = Token(last.text[: run.start()], last.page, last.start, last.end - cut, last.sep,
                                    last.blank, last.bbox, last.conf, last.row, last.col)
                    t, a = run.group() + t, last.end - cut
            if k == 0:
                if glue_prev:
                    sep = Sep.NONE
                elif after_page:
                    sep = Sep.PAGE
                elif blank:
                    sep = Sep.BLANK
                else:
                    sep = Sep.LINE
            out.append(Token(_clean(t), pno, a, b, sep, blank if k == 0 else 0, None, None, -1,
                             (k + lead_cells - 1 if lead_cells else k) if gridded and not word_dump else -1))
        if prev_layout:
            base = len(out) - len(cells)
            prev_layout = [(col, base + first, base + last) for col, first, last in prev_layout]
        blank = 0
        after_page = False
        prev_len = len(body)
        prev_tab = raw.startswith("\t")
    return out


def grid_tokens(page: Page, row_base: int) -> list[Token]:
    """The cells of a page whose readers gave rows (tables with their grid, text lines)."""
    out: list[Token] = []
    for i, row in enumerate(page.rows):
        for k, c in enumerate(row.cells):
            if k == 0:
                sep = Sep.ROW if row.exact else Sep.LINE
            else:
                sep = Sep.CELL
            out.append(Token(_clean(c.text), page.number, c.start, c.end, sep, bbox=c.bbox, conf=c.confidence,
                             row=row_base + i if row.exact else -1, col=k if row.exact else -1))
    return out


# ---- repairs ------------------------------------------------------------------------------------
def _join(a: Token, b: Token) -> Token:
    """Two neighbouring cells as one (their texts run together; the span covers both)."""
    return Token(a.text + b.text, a.page, a.start, b.end, a.sep, a.blank, a.bbox, a.conf, a.row, a.col,
                 a.glued or b.glued)


def _decoration(text: str) -> bool:
    f = fold(text)
    return bool(f) and f[0] == "(" and f[-1] == ")" and len(f) <= 14


def _open_bracket(text: str) -> bool:
    f = fold(text)
    return f.count("(") > f.count(")")


_WEAK = (Sep.SPACE, Sep.LINE, Sep.NONE)
_CONNECTIVES = frozenset("及和与、或")
_NO_TAIL = frozenset("0123456789—-–")


def _merge_tail(out: list[Token]) -> bool:
    """Join the last cells of ``out`` when together they are one label the dump broke apart."""
    last = out[-1]
    if len(out) < 2 or last.sep not in _WEAK or not last.text or len(last.text) > 16 or last.text[0] in _NO_TAIL:
        return False  # (a figure never ends a label a break cut)
    prev = out[-2]
    if len(prev.text) > 24 and not _open_bracket(prev.text):
        return False
    if prev.page != last.page or not prev.text:
        return False
    if _open_bracket(prev.text) and len(fold(prev.text)) <= 16:
        out[-2:] = [_join(prev, last)]  # a bracket is never split across cells
        return True
    if not any(may_begin_label(g.text) for g in out[-4:-1] if g.text):
        return False  # no label begins with any of the cells before this one
    last_lab = match(last.text)
    # a bare 指标 (a level word) may end a label the dump broke (一级 指标)
    last_is_label = last_lab is not None and not all(r.startswith("level.") for r in last_lab.roles)
    # how many cells back the weak boundaries reach
    reach = 1
    while reach < 4 and len(out) > reach and out[-reach].sep in _WEAK and out[-reach].text and out[-reach - 1].text:
        reach += 1
    for k in (4, 3, 2):
        if k > reach:
            continue
        group = out[-k:]
        joined = "".join(g.text for g in group)
        if len(fold(joined)) > 24 or match(joined) is None:
            continue
        # a piece ending in 及/和/与 is never a whole label: the label after it is its tail
        tail_ok = not last_is_label or _decoration(last.text) or (
            k == 2 and fold(prev.text)[-1:] in _CONNECTIVES and match(prev.text) is None)
        if not tail_ok and k == 2 and last.sep == Sep.SPACE and len(fold(prev.text)) <= 4 and match(prev.text) is None:
            # ``年初 预算数`` in one cell a converter split at its space: the longer label is the cell
            tail_ok = True  # match(joined) held above: the two pieces read as one label
        if k == 2 and match(prev.text) is not None and not (len(fold(last.text)) <= 3 or _decoration(last.text)):
            continue
        if not tail_ok:
            continue
        merged = group[0]
        for g in group[1:]:
            merged = _join(merged, g)
        out[-k:] = [merged]
        return True
    return False


def join_broken_labels(tokens: list[Token]) -> list[Token]:
    """Join a label that a space or a line break cut apart (``年初预`` ``算数``, ``全年执行数`` ``(B)``,
    ``绩 效 指 标``, ``产出`` ``指标`` ``(50分`` ``)``)."""
    out: list[Token] = []
    for t in tokens:
        out.append(t)
        while _merge_tail(out):
            pass
    return out


def join_wrapped_header(tokens: list[Token]) -> list[Token]:
    """A header whose cells a PDF wrapped onto a second line, printed line after line: the first
    halves of several cells (``年初指`` ``年终完`` ``自评`` ``复核``), then their second halves in the
    same order (``标值`` ``成值`` ``分`` ``分``). When every pair reads as a label, each cell is
    whole again."""
    broken = [k for k, t in enumerate(tokens) if t.text and len(t.text) <= 4 and _broken_piece(t.text)]
    # two cut cells close together, at least
    near = [a for a, b in zip(broken, broken[1:]) if b - a <= 4]
    if not near:
        return tokens
    out = list(tokens)
    starts = set()
    for a in near:
        k = a
        while k > 0 and a - k < 8 and _half(out[k - 1]) and may_begin_label(out[k - 1].text):
            k -= 1
        starts.add(k)
    shift = 0  # tokens removed before the current position
    for start in sorted(starts):
        i = start - shift
        if i < 0 or i >= len(out) or not _half(out[i]):
            continue
        j = i
        while j < len(out) and _half(out[j]) and may_begin_label(out[j].text):
            j += 1
        if j - i >= 2:
            for skip in (0, 1, 2):
                s0 = j + skip
                k = s0
                while k < len(out) and k - s0 < j - i and _half(out[k]) and out[k].page == out[i].page:
                    k += 1
                m = next((m for m in range(k - s0, 1, -1)
                          if all(_halves(out[j - m + n].text, out[s0 + n].text) for n in range(m))), 0)
                if m:
                    for n in range(m):
                        out[j - m + n] = _join(out[j - m + n], out[s0 + n])
                    del out[s0:s0 + m]
                    shift += m
                    break
    return out


def _halves(first: str, second: str) -> bool:
    """Whether two pieces are one header cell's halves: together a label, and not a label with a
    figure or note on it."""
    if any(ch.isdigit() for ch in second):
        return False
    whole = match(first + second)
    if whole is None:
        return False
    part = match(first)
    return part is None or part.core != whole.core


def _half(tok: Token) -> bool:
    """A short piece that may be half of a header cell."""
    return bool(tok.text) and len(tok.text) <= 6 and tok.sep in _WEAK and len(fold(tok.text)) <= 4


@lru_cache(maxsize=65536)
def _broken_piece(text: str) -> bool:
    """The first half of a header cell a line break cut (年初指): no label, but the start of one."""
    return 2 <= len(text) <= 4 and match(text) is None and may_begin_label(text) and not text[0].isdigit()


_PROSE = lazy_compile(r"[，。；！？,;]")
_NUMBERED_ITEM = lazy_compile(r"(?:^|[;；。])\s*\d{1,2}[.、．](?!\d)")
_MEASURE = frozenset("率数额量度性比")
_ORG_END = lazy_compile(r"(局|委|办|中心|政府|公司|院|站|所|馆|处|室|厅|会|队|校|街道|镇|乡|科)$")


_SYMBOLS = lazy_compile(r"^(?:≥|≤|>=|<=|>|<|=|≧|≦)$")
_NUMBERING = lazy_compile(r"^\d{1,2}\s*[:：、.．]?$")
_CONTINUES = ("：", ":", "，", ",", "、", "；", ";", "（", "(")


_PROSE_POINTS = lazy_compile(r"^分(?:[，,;；。、]|没有|不得|扣|$)")


def join_spaced(tokens: list[Token]) -> list[Token]:
    """Rejoin pieces of one cell that a single space split (flattened and PDF-derived text):
    ``指标`` ``1:`` ``25`` ``万/年`` is one name; a piece ending in a colon or comma goes on."""
    out: list[Token] = []
    for t in tokens:
        if (out and t.sep == Sep.SPACE and fold(t.text) == "指标" and out[-1].text
                and kind_of(out[-1].text).name in ("text", "qual") and not level_of(out[-1].text)
                and len(fold(out[-1].text)) <= 8 and t.page == out[-1].page):
            out[-1] = _join(out[-1], t)  # a bare 指标 after a word is that cell's wrapped tail (完成 指标)
            continue
        if out and t.sep == Sep.SPACE and t.text and out[-1].text and t.page == out[-1].page:
            prev = out[-1]
            pf = fold(prev.text)
            nk = kind_of(t.text).name
            join = False
            if pf in ("指标", "目标") and _NUMBERING.match(fold(t.text)):
                join = True
            elif fold(t.text)[:1] in ("，", ",", "、", "；", ";", ")", "）", "。") and match(prev.text) is None:
                join = True  # a sentence goes on after a stray space
            elif pf.endswith(("：", ":")) and match(prev.text) is None and len(pf) <= 30 and nk in (
                    "text", "number", "amount", "date") and not fold(t.text).startswith(("不涉及", "无")):
                join = True  # ``指标1:`` goes on into its text
            elif pf.endswith(_CONTINUES) and match(prev.text) is None and len(pf) <= 60 and nk == "text":
                join = True
            elif nk == "unit" and pf[-1:].isdigit() and match(prev.text) is None:
                join = True
            elif kind_of(prev.text).name == "nature" and _SYMBOLS.match(pf) and nk in ("number", "amount", "percent"):
                join = True  # ``>= 500 户``: a comparator and its figure
            elif re.fullmatch(r"[(（]?20\d{2}", pf) and fold(t.text).startswith("年"):
                join = True  # a year heading split by a space: 2021 年度)
            elif pf.endswith("以") and fold(t.text) in ("上", "下", "内"):
                join = True  # ``90%以`` ``上``: one bound split at a wrapped line's space
            elif _PROSE_POINTS.match(fold(t.text)) and kind_of(prev.text).name == "number":
                join = True  # scoring rules in prose: ``1 分;`` ``0.5 分,扣完为止``
            if join:
                merged = _join(prev, t)
                merged.text = prev.text + " " + t.text if prev.text[-1:].isascii() or t.text[:1].isascii() else \
                    prev.text + t.text
                out[-1] = merged
                before = out[-2] if len(out) >= 2 else None
                if (_PROSE_POINTS.match(fold(t.text)) and before is not None
                        and prev.sep == Sep.SPACE and before.page == prev.page
                        and kind_of(before.text).name == "text" and not level_of(before.text)):
                    both = _join(before, merged)
                    both.text = before.text + " " + merged.text
                    out[-2:] = [both]  # ``…审批报告计`` ``2 分,没有不得分``: one sentence
                continue
        out.append(t)
    return out


def _dense(folded: str, hits: list[tuple[int, int]]) -> bool:
    """Labels run together with their values (a glued table), not a sentence that names a label."""
    if len(hits) < 2:
        return False
    covered = sum(b - a for a, b in hits)
    prose = len(_PROSE.findall(folded))
    dense = (len(hits) >= 4 and prose < len(hits)
             or len(hits) >= 3 and (covered >= 0.5 * len(folded) or covered >= 0.12 * len(folded) and not prose)
             or len(hits) == 2 and covered >= 0.12 * len(folded) and not prose)
    # a numbered list of sentences (1.…;2.…;3.…) is a note, not a table
    return dense and not (prose and len(folded) < 400 and len(_NUMBERED_ITEM.findall(folded)) >= 2)


_SHORT = lazy_compile("|".join(SHORT_CUTS))


def _short_hits(folded: str) -> list[tuple[int, int]]:
    """总分/合计/得分/分值 inside glued figures: cut only between figures or at the ends."""
    out = []
    for m in _SHORT.finditer(folded):
        a, b = m.start(), m.end()
        before = folded[a - 1] if a else ""
        after = folded[b] if b < len(folded) else ""
        if (not before or before.isdigit() or before in "%)") and (not after or after.isdigit()):
            out.append((a, b))
    return out


def _with_note(text: str, a: int, b: int) -> int:
    """The end of a label cut at ``a:b`` with the bracketed note printed after it, when the label
    reads the same with it (``得分(20分*执行率)``): the note is the label's, not a row of figures."""
    if text[b:b + 1] not in ("(", "（"):
        return b
    close = min((i for i in (text.find(")", b), text.find("）", b)) if i > b), default=-1)
    if close < 0 or close - b > 24:
        return b
    lab, whole = match(text[a:b]), match(text[a:close + 1])
    if lab is not None and whole is not None and whole.roles == lab.roles:
        return close + 1
    return b


def _cut_at(length: int, spans: list[tuple[int, int]]) -> list[tuple[int, int, bool]]:
    """(start, end, is_label) pieces of a text of ``length`` cut at the label ``spans`` (left to
    right; a span that overlaps the one before is dropped)."""
    out: list[tuple[int, int, bool]] = []
    pos = 0
    for a, b in spans:
        if a < pos:
            continue
        if a > pos:
            out.append((pos, a, False))
        out.append((a, b, True))
        pos = b
    if pos < length:
        out.append((pos, length, False))
    return out


def _pieces(text: str, dense: bool, hits: list[tuple[int, int]], idx: list[int]) -> list[tuple[int, int, bool]]:
    """(start, end, is_label) pieces of ``text`` cut at the label ``hits`` (folded positions)."""
    cuts = _cut_at(len(text), [(idx[a], _with_note(text, idx[a], idx[b - 1] + 1)) for a, b in hits])
    if not dense:
        return cuts
    out: list[tuple[int, int, bool]] = []
    for a, b, is_label in cuts:
        if is_label:
            out.append((a, b, True))
            continue
        seg = text[a:b]
        f, sidx = fold_with_map(seg)
        run = split_label_run(f)
        if run:
            prev = 0
            for j in run:
                out.append((a + sidx[prev], a + sidx[j - 1] + 1, True))
                prev = j
            continue
        if is_title(seg):
            out.append((a, b, False))
            continue
        bounds = _cut_at(len(seg), [(sidx[x], sidx[y - 1] + 1) for x, y in _short_hits(f)])
        for x, y, lab in bounds:
            if lab:
                out.append((a + x, a + y, True))
                continue
            sub = seg[x:y]
            for u, v in atoms(_nfkc_same_length(sub)):
                out.append((a + x + u, a + x + v, False))
    return out


def _colon_label(text: str) -> bool:
    """A label that may head its value in one cell (``项目负责人：杨志强``); not a goal heading (the
    cell is the goal's text) and not a level word (``指标：…`` is an indicator's name)."""
    lab = match(text)
    return lab is not None and not lab.has("goal.") and not all(r.startswith("level.") for r in lab.roles)


def _anchor_or_field(text: str) -> bool:
    lab = match(text)
    return lab is not None and lab.has("field.") and len(fold(text)) >= 4


def _in_brackets(folded: str, pos: int) -> bool:
    """Whether ``pos`` lies inside an open bracket (a note such as (计算方法为:结余数/预算数))."""
    return _bracket_depths(folded)[pos] > 0


@lru_cache(maxsize=64)
def _bracket_depths(folded: str) -> tuple[int, ...]:
    """The bracket depth before every position of ``folded`` (one pass, shared by all its hits)."""
    out = [0] * (len(folded) + 1)
    depth = 0
    for i, ch in enumerate(folded):
        out[i] = depth
        if ch == "(":
            depth += 1
        elif ch == ")" and depth:
            depth -= 1
    out[len(folded)] = depth
    return tuple(out)


_CMP_CUT = lazy_compile(r"(?<=[\u4e00-\u9fff)])(?=(?:≥|≤|>=|<=|=|＞|＜|>|<)[+-]?\d)")


def cut_comparators(tokens: list[Token]) -> list[Token]:
    """A name with its target glued on (``科目调整次数≤10次``): cut before the comparator; and a
    short label glued to its figure (``合计100``) or a level label glued to a name
    (``时效指标按时发放率``)."""
    out: list[Token] = []
    for t in tokens:
        text = t.text
        cuts: list[int] = []
        if len(text) >= 4 and t.row < 0 and (t.glued or t.sep in (Sep.SPACE, Sep.NONE)):
            m = _CMP_CUT.search(text)
            if (m and match(text[: m.start()]) is None and m.start() <= 40 and not _PROSE.search(text)
                    and kind_of(text[m.start():]).figure):
                cuts.append(m.start())  # the whole cell is a name and its target
            f = fold(text)
            if f.isascii() is False and len(f) == len(text):
                sm = re.match(r"^(总分|合计|总计)(?=\d)", f)
                if sm:
                    cuts.append(sm.end())
                lm = re.match(r"^(.{2,8}?指标)(?=[\u4e00-\u9fff]{2})", f)
                if lm and level_of(lm.group(1)) and not match(text) and (not cuts or cuts[0] > lm.end()):
                    cuts.append(lm.end())
        if not cuts:
            out.append(t)
            continue
        prev = 0
        for k, c in enumerate(sorted(set(cuts)) + [len(text)]):
            piece = text[prev:c]
            if piece.strip():
                s0 = t.start + prev if t.start >= 0 else -1
                out.append(Token(piece.strip(), t.page, s0, s0 + len(piece) if s0 >= 0 else -1,
                                 t.sep if prev == 0 else Sep.NONE, t.blank if prev == 0 else 0, t.bbox, t.conf,
                                 t.row, t.col, t.glued or prev > 0))
            prev = c
    return out


def _short_after(folded: str, hits: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """A short label (说明, 备注, 得分) right after another label in glued text is cut off too, and
    so is a bare second-level word after a first-level label (产出指标|数量|…)."""
    out = list(hits)
    starts = {x[0] for x in hits}
    for a, b in hits:
        if b in starts:
            continue
        if "L1" in level_of(folded[a:b]) and "L2" in level_of(folded[b:b + 2]):
            out.append((b, b + 2))
            continue
        for n in (3, 2):
            w = folded[b:b + n]
            if len(w) == n and w in SHORT_LABELS:
                out.append((b, b + n))
                break
    return sorted(out)


def _outside_titles(folded: str, hits: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Label hits that do not fall inside a form's title (``项目绩效目标表(2021年度)``), plus a cut
    where each title ends."""
    spans = []
    ends = sorted(b for _a, b in hits)
    for m in TITLE_WORDS.finditer(folded):
        a = m.start()
        # the title runs back to the previous label hit or the start
        k = bisect_right(ends, a)
        spans.append((ends[k - 1] if k else 0, m.end()))
    if not spans:
        return hits
    starts = [a for a, _b in spans]

    def inside(h: tuple[int, int]) -> bool:
        k = bisect_right(starts, h[0])
        return any(a <= h[0] < b and h[1] <= b for a, b in spans[max(0, k - 3):k])

    out = [h for h in hits if not inside(h)]
    for a, b in spans:
        out.append((a, b))
    return sorted(set(out))


def cut_glued(tokens: list[Token]) -> list[Token]:
    """Cut cells that hold several labels and values run together, where the labels begin.

    ``项目名称：XXX`` becomes label and value; a run such as ``项目名称社区路灯改造主管部门某街道办``
    becomes four cells, and its values are cut further into texts and figures (``40盏40盏2020``).
    Long free text that merely mentions a label word is left alone.
    """
    out: list[Token] = []
    glued_run = False
    for t in tokens:
        text = t.text
        cont = glued_run and t.sep == Sep.NONE
        if len(text) < 5 and not (cont and len(text) >= 2):
            out.append(t)
            glued_run = glued_run and t.sep == Sep.NONE
            continue
        folded, idx = fold_with_map(text)
        if not cont and match(text) is not None:
            out.append(t)  # the whole cell is one label, decorations included
            glued_run = False
            continue
        hits = [h for h in find_labels(folded) if not (h[0] == 0 and h[1] == len(folded))]
        colon = folded.find(":")
        if (not hits or hits[0][0] != 0) and 0 < colon < 16 and colon + 1 < len(folded) \
                and _colon_label(text[: idx[colon]]):
            hits = [(0, colon)]  # ``项目负责人：杨志强``: a label and its value in one cell
        dense = cont or _dense(folded, hits)
        if not hits and not dense:
            out.append(t)
            glued_run = False
            continue
        if not dense and hits and hits[-1][1] == len(folded):
            # a form's title with its table's first column name glued on (…自评表指标名称)
            title_end = next((m.end() for m in TITLE_WORDS.finditer(folded) if m.end() == hits[-1][0]), None)
            if title_end is not None:
                cut = idx[title_end - 1] + 1
                s0 = t.start
                out.append(Token(text[:cut], t.page, s0, s0 + cut if s0 >= 0 else -1, t.sep, t.blank, t.bbox,
                                 t.conf, t.row, t.col))
                out.append(Token(text[cut:], t.page, s0 + cut if s0 >= 0 else -1, t.end, Sep.NONE, 0, t.bbox,
                                 t.conf, t.row, t.col, True))
                glued_run = False
                continue
        if not dense:
            a0, b0 = hits[0]
            rest = folded[b0:]
            head = text[: idx[b0 - 1] + 1]
            head_label = match(head)
            if a0 != 0 or (head_label is not None and head_label.has("goal.")) or not (
                    rest[:1] in (":", "：") or rest[:1].isdigit() or (head_label is not None and _anchor_or_field(head))):
                out.append(t)
                glued_run = False
                continue
            hits = hits[:1]  # ``项目名称：XXX``: the label and its value
        if dense:
            hits = [h for h in find_labels(folded, dense=True) if not (h[0] == 0 and h[1] == len(folded))] or hits
            hits = _outside_titles(folded, _short_after(folded, hits))
            # ``…资助项目主管部门…``: the 项目 ends the name before it when the label also reads without it
            hits = [(a + 2, b) if folded[a:a + 2] == "项目" and a > 0 and (not k or hits[k - 1][1] < a)
                    and match(folded[a + 2:b]) is not None
                    and len(folded[(hits[k - 1][1] if k else 0):a]) >= 6
                    and not _ORG_END.search(folded[(hits[k - 1][1] if k else 0):a]) else (a, b)
                    for k, (a, b) in enumerate(hits)]
            hits = [h for h in hits if not _in_brackets(folded, h[0])]
            # a label word that goes on into a measure (结转结余率, 执行数额) is part of a name
            # (but 产出指标数量… is a first-level label before a second-level one)
            hits = [h for h in hits if folded[h[1]:h[1] + 1] not in _MEASURE or folded[h[1]:h[1] + 1] == ""
                    or (level_of(folded[h[0]:h[1]]) and "L2" in level_of(folded[h[1]:h[1] + 2]))]
        pieces = _pieces(text, dense, hits, idx)
        first = True
        pending_sub: tuple[int, int] | None = None
        for a, b, _is_label in pieces:
            body = text[a:b].strip(_WS + ":：")
            if not body:
                continue
            if dense and fold(body) in ("其中", "其中:"):
                pending_sub = (a, b)
                continue
            if pending_sub is not None:
                a = pending_sub[0]
                body = text[a:b].strip(_WS + ":：")
                pending_sub = None
            lead = text[a:b].find(body[0])
            s0 = t.start + a + lead if t.start >= 0 else -1
            e0 = s0 + len(body) if s0 >= 0 else -1
            out.append(Token(body, t.page, s0, e0, t.sep if first else Sep.NONE, t.blank if first else 0,
                             t.bbox, t.conf, t.row, t.col, glued=dense))
            first = False
        glued_run = dense
    return out


def _nfkc_same_length(text: str) -> str:
    n = unicodedata.normalize("NFKC", text)
    return n if len(n) == len(text) else text


def classify(tokens: list[Token]) -> None:
    """Give every cell its label (if it is one) and its kind of value."""
    for t in tokens:
        t.label = match(t.text) if t.text else None
        t.kind = kind_of(t.text)


def document_tokens(doc: Document) -> list[Token]:
    """The whole document as one stream."""
    out: list[Token] = []
    rows_seen = 0
    for page in doc.pages:
        if page.rows:
            toks = grid_tokens(page, rows_seen)
            rows_seen += len(page.rows)
        else:
            toks = text_tokens(page)
        if out and toks:
            toks[0].sep = Sep.PAGE
        out.extend(toks)
    out = cut_comparators(join_spaced(cut_glued(join_wrapped_header(join_broken_labels(out)))))
    classify(out)
    return out
