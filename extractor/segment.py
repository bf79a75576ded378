"""Find every form in a document's rows, in order, and the table tails that belong to none.

A form starts at its 项目名称 row and ends at its 总分 row (or where the next form starts). A
table cut off from its page that continues an unfinished form is kept in it; indicator rows that
appear when no form is open are a fragment of their own, never merged into a neighbour.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from extractor.document import Row
from extractor.labels import (
    field_label,
    heading_year,
    indicator_column,
    is_total_label,
    level_kind,
    split_label_value,
)
from extractor.numbers import clean, parse_number


@dataclass
class Segment:
    """The rows of one form (or fragment)."""

    rows: list[Row] = field(default_factory=list)
    year: int | None = None
    is_fragment: bool = False
    heading: list[Row] = field(default_factory=list)  # the year heading the form's year came from


def _first_text(row: Row) -> str:
    for c in row.cells:
        if c.text:
            return c.text
    return ""


def _starts_form(row: Row) -> bool:
    first = _first_text(row)
    if field_label(first) == "project_name":
        return True
    sv = split_label_value(first)
    return bool(sv and sv[0] == "project_name")


def _is_header(row: Row) -> bool:
    roles = {indicator_column(c.text) for c in row.cells if c.text}
    return "name" in roles or {"level1", "level2"} <= roles or {"target", "actual"} <= roles


def _looks_like_tail(row: Row) -> bool:
    """Indicator rows with no form above them: a strict level label plus a number."""
    texts = [c.text for c in row.cells if c.text]
    if len(texts) < 3:
        return False
    kw = any(level_kind(t) and clean(t).endswith("指标") for t in texts[:3])
    nums = sum(1 for t in texts[-4:] if parse_number(t) is not None)
    numbered = bool(re.match(r"^指标\s*\d+\s*[:：]\S", clean(texts[0])))
    return (kw and nums >= 1) or (numbered and nums >= 2 and len(texts) >= 4)


def _row_year(row: Row) -> int | None:
    texts = [c.text for c in row.cells if c.text]
    if not texts or len(texts) > 3:
        return None
    for t in texts:
        y = heading_year(t)
        if y:
            return y
    return None


def segment_rows(rows: list[Row]) -> list[Segment]:
    """Cut rows into forms and fragments."""
    segments: list[Segment] = []
    cur: Segment | None = None
    is_open = False
    pending_year: int | None = None
    last_year: int | None = None
    heading_row: Row | None = None
    for row in rows:
        if _starts_form(row):
            year = pending_year if pending_year is not None else last_year
            cur = Segment([row], year=year, heading=[heading_row] if heading_row is not None and year else [])
            segments.append(cur)
            is_open = True
            last_year = year
            pending_year = None
            continue
        if not is_open and field_label(_first_text(row)) in ("department", "implementing_unit"):
            # a form whose 项目名称 row is missing still starts at its header fields
            year = pending_year if pending_year is not None else last_year
            cur = Segment([row], year=year, heading=[heading_row] if heading_row is not None and year else [])
            segments.append(cur)
            is_open = True
            last_year, pending_year = year, None
            continue
        if not is_open:
            y = _row_year(row)
            if y is not None:
                pending_year, heading_row = y, row
                continue
            if _is_header(row) or _looks_like_tail(row):
                cur = Segment([row], year=None, is_fragment=True)
                segments.append(cur)
                is_open = True
            continue
        assert cur is not None
        y = _row_year(row)
        if y is not None:
            pending_year, heading_row = y, row  # the next form's heading, after a form with no 总分 row
            continue
        cur.rows.append(row)
        if is_total_label(_first_text(row)):
            is_open = False
    return segments
