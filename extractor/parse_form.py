"""Turn one segment's rows into a :class:`~extractor.schemas.Form`, every value traced to its cell.

The form is read top to bottom: header fields (label, then the next filled cell), the 项目资金
table (columns named by its header, rows by their labels), the 年度总体目标, the 绩效指标 table
(:mod:`extractor.parse_indicators`) and the 总分 row.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable

from extractor.document import Cell, Page, Row
from extractor.labels import (
    field_label,
    fund_column,
    fund_row_label,
    funds_unit,
    goal_heading,
    indicator_column,
    is_total_label,
    split_label_value,
    starts_row,
)
from extractor.numbers import clean, number_or_text, parse_number
from extractor.parse_indicators import is_header_row, parse_indicator_rows
from extractor.ocr_repair import ROWS, chinese_name, repair_decimal_points
from extractor.schemas import Form, FundRow, SourceRef, readings_to_check
from extractor.segment import Segment

DEFAULT_FUND_COLUMNS = ["initial", "full_year", "executed", "weight", "rate", "score"]


class Locator:
    """Turns a cell into a SourceRef (page, line, span, box)."""

    def __init__(self, pages: list[Page]) -> None:
        self._starts: dict[int, list[int]] = {}
        for p in pages:
            starts = [0]
            text = p.text
            i = text.find("\n")
            while i >= 0:
                starts.append(i + 1)
                i = text.find("\n", i + 1)
            self._starts[p.number] = starts

    def __call__(self, row: Row, cell: Cell) -> SourceRef:
        line = row.line
        starts = self._starts.get(row.page)
        if starts and cell.start >= 0:
            line = bisect_right(starts, cell.start)
        return SourceRef(page=row.page, line=line,
                         start=cell.start if cell.start >= 0 else None,
                         end=cell.end if cell.end >= 0 else None,
                         bbox=cell.bbox, confidence=cell.confidence)


def merge_soft_rows(rows: list[Row]) -> list[Row]:
    """Join Word-dump rows that an empty paragraph split in two."""
    widths = [len(r.cells) for r in rows if r.exact]
    width = max(widths) if widths else 0
    out: list[Row] = []
    for r in rows:
        if (out and r.soft_break and r.exact and out[-1].exact and r.cells and r.cells[0].text
                and not starts_row(r.cells[0].text) and len(out[-1].cells) + len(r.cells) <= width):
            prev = out[-1]
            out[-1] = Row(prev.cells + r.cells, prev.page, prev.line, prev.soft_break, True)
        else:
            out.append(r)
    return out


def _expand_label_cells(row: Row) -> Row:
    """``项目名称：XXX`` in one cell becomes two cells."""
    if not any("：" in c.text or ":" in c.text for c in row.cells):
        return row
    cells: list[Cell] = []
    for c in row.cells:
        sv = split_label_value(c.text) if c.text else None
        if sv and not field_label(c.text):
            value = sv[1]
            vstart = c.start + c.text.rfind(value) if c.start >= 0 else -1
            cells.append(Cell(c.text[: len(c.text) - len(value)].rstrip(), c.start, vstart, c.bbox, c.confidence))
            cells.append(Cell(value, vstart, c.end, c.bbox, c.confidence))
        else:
            cells.append(c)
    return Row(cells, row.page, row.line, row.soft_break, row.exact)


def _is_label(text: str) -> bool:
    return bool(field_label(text) or fund_row_label(text) or clean(text) in ("项目资金", "年度总体目标"))


class _FormBuilder:
    def __init__(self, seg: Segment, locate: Callable[[Row, Cell], SourceRef]) -> None:
        self.seg = seg
        self.locate = locate
        self.form = Form(year=seg.year, is_fragment=seg.is_fragment)
        self.fund_cols: list[str] | None = None
        self.fund_grid: tuple[int, dict[int, str]] | None = None  # exact header: width, column -> role
        self.goal_header: Row | None = None
        self.goal_cells: list[tuple[Row, Cell]] = []

    # -- header fields --
    def header_fields(self, row: Row) -> None:
        cells = row.cells
        for i, c in enumerate(cells):
            role = field_label(c.text) if c.text else None
            if not role or getattr(self.form, role) is not None or role in self.form.sources:
                continue
            for v in cells[i + 1:]:
                if not v.text:
                    continue
                if _is_label(v.text):
                    break
                setattr(self.form, role, v.text)
                self.form.sources[role] = self.locate(row, v)
                break
            else:
                self.form.sources.setdefault(role, self.locate(row, c))

    # -- funds --
    def funds_header(self, row: Row) -> bool:
        texts = [c.text for c in row.cells if c.text]
        roles = [fund_column(t) for t in texts]
        if sum(1 for r in roles if r) < 3:
            return False
        first = next(i for i, r in enumerate(roles) if r)
        # unknown columns after the first known one keep their place
        self.fund_cols = [r or "other" for r in roles[first:]]
        if row.exact:
            self.fund_grid = (len(row.cells), {i: fund_column(c.text) or "other" for i, c in enumerate(row.cells)
                                               if c.text and i >= next(k for k, c2 in enumerate(row.cells)
                                                                       if c2.text and fund_column(c2.text))})
        for c in row.cells:
            unit = funds_unit(c.text) if c.text else None
            if unit:
                self.form.funds.unit = unit
        return True

    def fund_row(self, row: Row, key: str, label_idx: int) -> None:
        cols = self.fund_cols or DEFAULT_FUND_COLUMNS
        target: FundRow = getattr(self.form.funds, key)
        if target.sources:
            return  # the first row with this label wins
        if row.exact and self.fund_grid and self.fund_grid[0] == len(row.cells):
            # same grid as the header: read by column
            pairs = [(role, row.cells[i]) for i, role in self.fund_grid[1].items() if i > label_idx]
        else:
            values = list(row.cells[label_idx + 1:])
            while values and not values[-1].text:
                values.pop()
            while len(values) > len(cols) and values and not values[0].text:
                values.pop(0)
            pairs = list(zip(cols, values))
        for col, cell in pairs:
            if col in ("initial", "full_year", "executed"):
                setattr(target, col, number_or_text(cell.text))
            elif col in ("weight", "rate", "score"):
                setattr(target, col, parse_number(cell.text))
            if cell.text:
                target.sources[col] = self.locate(row, cell)
        target.sources.setdefault("label", self.locate(row, row.cells[label_idx]))

    # -- goals --
    def goal_row(self, row: Row) -> None:
        for c in row.cells:
            if not clean(c.text) or goal_heading(c.text):
                continue
            self.goal_cells.append((row, c))

    def finish_goals(self) -> None:
        if not self.goal_cells:
            return
        hdr = self.goal_header
        if hdr is not None and hdr.exact:
            # a grid whose merged cells repeat their text: read the goals by the header's columns
            exp_i = next((i for i, c in enumerate(hdr.cells) if goal_heading(c.text) == "预期目标"), None)
            act_i = next((i for i, c in enumerate(hdr.cells) if goal_heading(c.text) == "实际完成情况"), None)
            data = [r for r, _ in self.goal_cells if r is not hdr]
            row = data[0] if data else None
            if (row is not None and row.exact and len(row.cells) == len(hdr.cells) and exp_i is not None
                    and act_i is not None and all(r is row for r in data)):
                for key, i in (("goal_expected", exp_i), ("goal_actual", act_i)):
                    if row.cells[i].text:
                        self._set(key, row, row.cells[i])
                return
        if len(self.goal_cells) == 1 and self.goal_header is not None:
            row, cell = self.goal_cells[0]
            exp_i = act_i = None
            for i, hc in enumerate(self.goal_header.cells):
                h = goal_heading(hc.text)
                if h == "预期目标":
                    exp_i = i
                elif h == "实际完成情况":
                    act_i = i
            idx = row.cells.index(cell)
            if exp_i is not None and act_i is not None and abs(idx - act_i) < abs(idx - exp_i):
                self._set("goal_actual", row, cell)
                return
        self._set("goal_expected", *self.goal_cells[0])
        if len(self.goal_cells) >= 2:
            rest = self.goal_cells[1:]
            self._set("goal_actual", *rest[0])
            if len(rest) > 1:
                self.form.goal_actual = "".join(c.text for _, c in rest)

    def _set(self, key: str, row: Row, cell: Cell) -> None:
        setattr(self.form, key, cell.text)
        self.form.sources[key] = self.locate(row, cell)

    # -- total --
    def total_row(self, row: Row, label_idx: int) -> None:
        nums = [(i, c, parse_number(c.text)) for i, c in enumerate(row.cells) if i > label_idx and c.text]
        nums = [(i, c, v) for i, c, v in nums if v is not None]
        if len(nums) >= 2:
            (_, cw, w), (_, cs, s) = nums[0], nums[1]
            self.form.total_weight, self.form.total_score = w, s
            self.form.sources["total_weight"] = self.locate(row, cw)
            self.form.sources["total_score"] = self.locate(row, cs)
        elif nums:
            _, c, v = nums[0]
            key = "total_weight" if v == 100 else "total_score"
            setattr(self.form, key, v)
            self.form.sources[key] = self.locate(row, c)


def parse_segment(seg: Segment, locate: Callable[[Row, Cell], SourceRef]) -> Form:
    """Read one form."""
    b = _FormBuilder(seg, locate)
    rows = [_expand_label_cells(r) for r in merge_soft_rows(seg.rows)]
    ind_header: Row | None = None
    ind_rows: list[Row] = []
    section = "indicators" if seg.is_fragment else "head"
    for row in rows:
        texts = [c.text for c in row.cells]
        first_i = next((i for i, t in enumerate(texts) if t), None)
        if first_i is None:
            continue
        first = texts[first_i]
        if is_total_label(first) and section in ("indicators", "goals", "funds", "head"):
            b.total_row(row, first_i)
            section = "done"
            continue
        if (section != "indicators" or (seg.is_fragment and not ind_rows)) and is_header_row(row) and any(
                indicator_column(t) in ("name", "level1", "level2") for t in texts if t):
            ind_header = row
            section = "indicators"
            continue
        if section == "indicators":
            ind_rows.append(row)
            continue
        if section == "done":
            continue
        if b.funds_header(row):
            section = "funds"
            continue
        fund_hit = next(((i, fund_row_label(t)) for i, t in enumerate(texts[:4]) if t and fund_row_label(t)), None)
        if fund_hit and section in ("head", "funds"):
            b.fund_row(row, fund_hit[1], fund_hit[0])
            section = "funds"
            continue
        norm = [clean(t) for t in texts if t]
        if "预期目标" in norm or "年度总体目标" in norm:
            b.goal_header = row if "预期目标" in norm else b.goal_header
            section = "goals"
            b.goal_row(row)
            continue
        if section == "goals":
            b.goal_row(row)
            continue
        b.header_fields(row)
    b.finish_goals()
    if ind_rows or ind_header is not None:
        inds, templates = parse_indicator_rows(ind_rows, ind_header, locate)
        b.form.indicators = inds
        b.form.template_rows = templates
    _warn(b.form, ind_header is not None)
    pages = [r.page for r in seg.rows]
    b.form.pages = (min(pages), max(pages)) if pages else None
    return b.form


def _warn(form: Form, has_header: bool) -> None:
    w = form.warnings
    if form.project_name is None and not form.is_fragment:
        w.append("未找到项目名称")
    if form.is_fragment:
        w.append("表格残片：缺少项目名称等表头，可能是上一页表格的续表")
    if not form.funds.total.sources and not form.is_fragment:
        w.append("未找到项目资金表的“年度资金总额”行")
    if not has_header and not form.is_fragment:
        w.append("未找到绩效指标表表头")
    if not form.indicators:
        w.append("绩效指标表中没有已填写的指标")
    if form.total_weight is None and form.total_score is None:
        w.append("未找到总分行")
    names = {"total": "年度资金总额", "fiscal": "当年财政拨款", "carryover": "上年结转资金", "other": "其他资金"}
    cols = {"initial": "年初预算数", "full_year": "全年预算数", "executed": "全年执行数"}
    for key, label in names.items():
        row = getattr(form.funds, key)
        for col, cname in cols.items():
            v = getattr(row, col)
            if isinstance(v, str):
                w.append(f"资金表“{label}/{cname}”不是数字：{v}（已按原文保留）")
    w.extend(repair_decimal_points(form))
    low = _low_confidence(form)
    if low:
        w.append(f"OCR识别置信度较低的值{len(low)}处，请对照原件核对：{'、'.join(low[:6])}{'等' if len(low) > 6 else ''}")
    form.confidence = max(0.2, 1.0 - 0.15 * len(w))


def _low_confidence(form: Form) -> list[str]:
    """Chinese names of the fields whose value came from OCR text the reviewer must check."""
    out = []
    for path, value, _conf in readings_to_check(form):
        parts = path.split(".")
        if parts[0] == "funds":
            if value is not None:  # a dash in a sub-row's 分值/执行率 column is no value
                out.append(f"资金表{ROWS[parts[1]]}/{chinese_name(parts[2])}")
        elif parts[0] == "indicators":
            out.append(f"第{int(parts[1]) + 1}个指标的{chinese_name(parts[2])}")
        else:
            out.append(chinese_name(path))
    return out
