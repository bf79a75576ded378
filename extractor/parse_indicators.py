"""Read the 绩效指标 table: levels filled down, values mapped by the header, template rows set aside.

Rows from exact grids (Word, Excel, pipe tables, PDF tables) are read by column. Rows from text
dumps of PDFs are read by meaning, because merged cells push cells left or right: leading cells
that read as level labels (产出指标, 数量指标, …) are levels, the next cell is the 三级指标 name, and
the cells after it follow the header's order. A merged label printed on the last row of its group
(the numbering restarts at 指标1 and the label appears at 指标4) is carried back to the group.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Callable

from extractor.document import Cell, Row
from extractor.labels import indicator_column, is_template_name, level_kind, strip_points
from extractor.numbers import clean, parse_number
from extractor.schemas import Indicator, SourceRef

DEFAULT_AFTER = ["target", "actual", "weight", "score", "deviation"]
_NUM_PREFIX = re.compile(r"^指标\s*(\d+)")

Locate = Callable[[Row, Cell], SourceRef]


@dataclass
class Header:
    """Column roles of the indicator table, split around the 三级指标 column."""

    before: list[str]
    after: list[str]
    width: int

    @classmethod
    def from_row(cls, row: Row | None) -> "Header":
        if row is None:
            return cls(["level1", "level2"], list(DEFAULT_AFTER), 9)
        # unknown non-empty columns keep their place ("other") so later columns stay aligned; a cell
        # holding two column names (a rule the scan lost: 分值得分) counts as both
        roles_nonempty = []
        for c in row.cells:
            if c.text:
                roles_nonempty.extend(_split_roles(c.text))
        if "name" in roles_nonempty:
            i = roles_nonempty.index("name")
            before = [r for r in roles_nonempty[:i] if r in ("level1", "level2")]
            after = [r for r in roles_nonempty[i + 1:] if r != "label"]
        else:
            before = [r for r in roles_nonempty if r in ("level1", "level2")]
            after = [r for r in roles_nonempty if r not in ("level1", "level2", "label", "other")]
        if before == ["level2", "level2"]:  # OCR misreads 一 as 二: the first of two is level 1
            before = ["level1", "level2"]
        return cls(before or ["level1", "level2"], after or list(DEFAULT_AFTER), len(row.cells))


def _split_roles(text: str) -> list[str]:
    role = indicator_column(text)
    if role:
        return [role]
    t = clean(text)
    for k in range(2, len(t) - 1):
        a, b = indicator_column(t[:k]), indicator_column(t[k:])
        if a and b and a != "label" and b != "label":
            return [a, b]
    return ["other"]


def is_header_row(row: Row) -> bool:
    """A (possibly repeated) indicator-table header."""
    roles = [indicator_column(c.text) for c in row.cells if c.text]
    found = set(roles) - {None, "label"}
    return len(found) >= 3 or ("name" in found and len(found) >= 2)


@dataclass
class _Parsed:
    ind: Indicator
    explicit_l1: str | None
    explicit_l2: str | None
    number: int | None
    template: bool
    exact: bool


def _split_levels_semantic(cells: list[Cell]) -> tuple[list[tuple[int, str, frozenset[str]]], int]:
    """Leading level labels and the index of the name cell, read by meaning."""
    kws: list[tuple[int, str, frozenset[str]]] = []
    i = 0
    while i < len(cells):
        t = cells[i].text
        if not t or clean(t) in ("绩效指标", "绩效目标"):
            i += 1
            continue
        kind = level_kind(t)
        if kind and len(kws) < 2:
            kws.append((i, t, kind))
            i += 1
            continue
        break
    return kws, i


def _resolve_levels(kws: list[tuple[int, str, frozenset[str]]], cur_l1: str | None) -> tuple[str | None, str | None]:
    if len(kws) >= 2:
        return kws[0][1], kws[1][1]
    if not kws:
        return None, None
    _, text, kind = kws[0]
    if kind == {"L1"}:
        return text, None
    if kind == {"L2"}:
        return None, text
    # ambiguous (成本指标, 满意度指标): a second level under a compatible first level
    core = strip_points(text).rstrip("指标")
    l1 = strip_points(cur_l1 or "")
    if (core == "成本" and l1.startswith("产出")) or (core == "满意度" and l1.startswith("满意度")):
        return None, text
    return text, None


def _row_number(name: str | None) -> int | None:
    m = _NUM_PREFIX.match(clean(name)) if name else None
    return int(m.group(1)) if m else None


def _text(c: Cell | None) -> str | None:
    return c.text if c is not None and c.text else None


def parse_indicator_rows(rows: list[Row], header_row: Row | None, locate: Locate) -> tuple[list[Indicator], list[SourceRef]]:
    """Indicators (top to bottom) and the positions of unfilled template rows."""
    header = Header.from_row(header_row)
    n_after = len(header.after)
    exact_widths = Counter(len(r.cells) for r in rows if r.exact)
    grid_width = exact_widths.most_common(1)[0][0] if exact_widths else None

    parsed: list[_Parsed] = []
    l1: str | None = None
    l2: str | None = None
    for row in rows:
        cells = row.cells
        if not any(c.text for c in cells):
            continue
        if is_header_row(row):
            continue
        if row.exact and grid_width and len(cells) == grid_width and grid_width >= n_after + 2:
            name_idx = grid_width - n_after - 1
            e1 = _text(cells[name_idx - 2]) if name_idx >= 2 and "level1" in header.before else None
            e2 = _text(cells[name_idx - 1]) if name_idx >= 1 else None
            if len(header.before) == 1 and header.before[0] == "level1":
                e1, e2 = e2, None
        else:
            kws, name_idx = _split_levels_semantic(cells)
            e1, e2 = _resolve_levels(kws, l1)
        if e1:
            l1 = e1
        if e2:
            l2 = e2
        name_cell = cells[name_idx] if name_idx < len(cells) else None
        values = cells[name_idx + 1: name_idx + 1 + n_after]
        fields: dict[str, Cell] = {}
        for role, cell in zip(header.after, values):
            if cell.text and role not in fields:
                fields[role] = cell
        name = _text(name_cell)
        if name is None and not fields:
            continue  # only level labels on the row
        if name is not None and is_template_name(name) and not fields:
            parsed.append(_Parsed(Indicator(), e1, e2, None, True, row.exact))
            parsed[-1].ind.sources["name"] = locate(row, name_cell)  # type: ignore[arg-type]
            continue
        ind = Indicator(level1=l1, level2=l2, name=name)
        if name_cell is not None and name:
            ind.sources["name"] = locate(row, name_cell)
        for role, cell in fields.items():
            if role in ("weight", "score"):
                setattr(ind, role, parse_number(cell.text))
            elif role in ("target", "actual", "deviation", "nature", "unit"):
                setattr(ind, role, None if clean(cell.text) in ("—", "-", "–") else cell.text)
            ind.sources[role] = locate(row, cell)
        parsed.append(_Parsed(ind, e1, e2, _row_number(name), False, row.exact))

    _carry_back_late_labels(parsed)
    _infer_levels_from_family(parsed)
    _join_broken_labels([p.ind for p in parsed if not p.template])
    inds = [p.ind for p in parsed if not p.template]
    templates = [p.ind.sources["name"] for p in parsed if p.template and "name" in p.ind.sources]
    return inds, templates


def _join_broken_labels(inds: list[Indicator]) -> None:
    """A level label cut at a line or page break (可持续影响指 | 标): its tail on the next row is
    joined back, and a label left ending in 指 gets its 标 (no indicator level ends in 指)."""
    for attr in ("level1", "level2"):
        prev: str | None = None
        for i, ind in enumerate(inds):
            v = getattr(ind, attr)
            if v and prev and prev.endswith("指") and len(v) <= 2 and (prev + v).endswith("指标"):
                whole = prev + v
                for earlier in inds[:i + 1]:
                    if getattr(earlier, attr) in (prev, v):
                        setattr(earlier, attr, whole)
                v = whole
            prev = v
        for ind in inds:
            v = getattr(ind, attr)
            if v and v.endswith("指") and "标" not in v:  # a printed typo such as 产出标指 stays
                setattr(ind, attr, v + "标")


def _carry_back_late_labels(parsed: list[_Parsed]) -> None:
    """Give a restarted numbering run the label printed on its continuing row (PDF dumps only)."""
    pending: int | None = None
    prev_num: int | None = None
    for k, p in enumerate(parsed):
        if p.template:
            continue
        if p.explicit_l2 is not None:
            if (pending is not None and not p.exact and p.number is not None and prev_num is not None
                    and p.number == prev_num + 1):
                for q in parsed[pending:k]:
                    if not q.template:
                        q.ind.level2 = p.ind.level2
                        if p.explicit_l1:
                            q.ind.level1 = p.ind.level1
            pending = None
        elif p.number is not None and prev_num is not None and p.number <= prev_num and pending is None:
            pending = k
        if p.number is not None:
            prev_num = p.number


_FAMILY = {
    "产出": ("数量", "质量", "时效", "进度", "成本"),
    "效益": ("经济效益", "社会效益", "生态效益", "环境效益", "可持续影响", "可持续发展"),
    "满意度": ("服务对象满意度", "满意度", "社会公众满意度", "公众满意度"),
    "成本": ("经济成本", "社会成本", "生态环境成本", "生态成本", "环境成本"),
}


def _core(text: str | None) -> str:
    return strip_points(text or "").removesuffix("指标").removesuffix("标")


def _infer_levels_from_family(parsed: list[_Parsed]) -> None:
    """PDF dumps print a merged label mid-group, so fill-down can be wrong at a group's edges.

    Rows before the first printed label take that label. A row whose first level came from
    fill-down and whose second level belongs to another printed first level's family
    (社会效益指标 under 效益指标) takes that first level. Exact grids are left as printed.
    """
    rows = [p for p in parsed if not p.template and not p.exact]
    if not rows:
        return
    first_l1 = next((p.ind.level1 for p in rows if p.explicit_l1), None)
    first_l2 = next((p.ind.level2 for p in rows if p.explicit_l2), None)
    for p in rows:
        if p.ind.level1 is None and first_l1:
            p.ind.level1 = first_l1
        if p.ind.level2 is None and first_l2:
            p.ind.level2 = first_l2
    printed = {_core(p.explicit_l1): p.explicit_l1 for p in parsed if p.explicit_l1}
    for p in rows:
        if p.explicit_l1 or not p.ind.level2:
            continue
        l2 = _core(p.ind.level2)
        fam = next((f for f, members in _FAMILY.items() if l2 in members and f in printed), None)
        if fam is None and l2 in _FAMILY["成本"]:
            fam = "产出" if "产出" in printed else None
        if fam and _core(p.ind.level1) != fam:
            p.ind.level1 = printed[fam]
