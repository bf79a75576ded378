"""Assemble the typed :class:`~extractor.core.records.Form` from what the block readers found.

Every value keeps where it came from (page, line, span, box, OCR confidence). Levels are carried
down a merged cell's group, and back over rows printed before a label that a PDF dump put mid-group
(only where the numbering shows the rows are one group). A split target is joined as a reader
says it (``≥`` ``420`` ``人`` -> ``≥420人``). The form's confidence comes from what is left over:
cells no column took, checks the form's own arithmetic fails, a missing anchor.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass

from extractor.core.document import Page
from extractor.core.lazy_regex import lazy_compile
from extractor.core.records import Form, FundRow, Indicator, SourceRef
from extractor.core.vocabulary import (
    fold,
    is_template_name,
    is_torn_points,
    level_of,
    level_text,
    match,
    strip_decorations,
)
from extractor.reading.digits import is_run, splits
from extractor.reading.fields import read_fields
from extractor.reading.forms import Blocks, FormSpan, heading_year
from extractor.reading.funds import AMOUNT_COLS, ROWS, Cellv, FundsRead, read_funds
from extractor.reading.goals import read_goals
from extractor.reading.indicators import (
    DEV,
    RATE,
    SCORE,
    TVAL,
    UNIT,
    WEIGHT,
    RowRead,
    block_style,
    choose_schema,
    rows_of,
    segments,
)
from extractor.reading.names import split_name_runs
from extractor.reading.stream import Sep, Token
from extractor.reading.values import amount_or_text, is_empty, kind_of, parse_number, rate_number

_NUM_PREFIX = lazy_compile(r"^指标\s*(\d+)")
_SYMBOL = lazy_compile(r"^(?:≥|≤|>=|<=|>|<|=|≧|≦|＞|＜|＝)+$")


class Locator:
    """Turns a token into a SourceRef (page, line, span, box, confidence)."""

    def __init__(self, pages: list[Page]) -> None:
        self._starts: dict[int, list[int]] = {}
        for p in pages:
            starts = [0]
            i = p.text.find("\n")
            while i >= 0:
                starts.append(i + 1)
                i = p.text.find("\n", i + 1)
            self._starts[p.number] = starts

    def __call__(self, tok: Token, tokens: list[Token] | None = None) -> SourceRef:
        if not tokens or len(tokens) == 1:
            one = tokens[0] if tokens else tok
            start, end, conf = one.start, one.end, one.conf
        else:
            start = min((t.start for t in tokens if t.start >= 0), default=-1)
            end = max((t.end for t in tokens if t.end >= 0), default=-1)
            conf = min((t.conf for t in tokens if t.conf is not None), default=None)
        starts = self._starts.get(tok.page)
        line = bisect_right(starts, start) if starts and start >= 0 else None
        return SourceRef(page=tok.page, line=line, start=start if start >= 0 else None,
                         end=end if end >= 0 else None, bbox=tok.bbox, confidence=conf)


_PROBLEMS_LABEL = lazy_compile(r"^(?:存在的?问题|(?:主要|存在)?问题及(?:改进|整改)措施|存在问题和改进措施)[:：]?$")


def _stated_problems(tokens: list[Token], trailer: list[int]) -> list[Token]:
    """The cells after the trailer's 存在问题 label, up to the next label (``存在问题 | 无 | 改进措施``)."""
    out: list[Token] = []
    taking = False
    for i in trailer:
        tok = tokens[i]
        if tok.label is not None:
            if taking:
                break
            taking = bool(_PROBLEMS_LABEL.match(fold(tok.text)))
        elif taking and not tok.empty:
            out.append(tok)
    return out


@dataclass
class Built:
    """A form and the facts about its reading that set its confidence."""

    form: Form
    leftovers: int
    fit_cost: float
    header: bool = False  # the indicator table had a header naming its columns


def build_form(tokens: list[Token], span: FormSpan, blocks: Blocks, locate: Locator,
               last_year: int | None) -> Built:
    """Read one form."""
    form = Form(is_fragment=span.fragment, kind=span.kind if span.kind in ("department", "transfer") else "project")
    if form.kind == "project" and _transfer_rows(tokens, blocks):
        form.kind = "transfer"  # 资金管理情况 rows (分配科学性, 下达及时性 …) belong to 转移支付 forms
    leftovers = 0
    # -- header fields
    orphans = [i for i in blocks.head + blocks.trailer + blocks.funds + blocks.goals
               if tokens[i].label is None and not tokens[i].empty]
    fields = read_fields(tokens, blocks.fields, sorted(orphans), department_form=form.kind == "department")
    for role in ("project_name", "department", "implementing_unit", "project_lead", "phone", "central_department"):
        fv = fields.get(role)
        if fv is None:
            continue
        setattr(form, role, fv.text)
        form.sources[role] = locate(fv.tokens[0], fv.tokens)
    if form.department is None:
        # a 转移支付 form that prints only the 省级 (or 中央) 主管部门
        for fv in (fields.get("regional_department"), fields.get("central_department")):
            if fv is not None:
                form.department = fv.text
                form.sources["department"] = locate(fv.tokens[0], fv.tokens)
                break
    if form.kind == "department" and form.project_name and not any(
            tokens[li].label is not None and "field.project_name" in tokens[li].label.roles for li, _ in blocks.fields):
        form.project_name = None
    # -- year
    year = span.year
    if year is None and "year" in fields:
        year = int(fields["year"].text)
    if year is None and span.title is not None:
        year = heading_year(tokens[span.title].text)
    if year is None and not span.fragment:
        year = last_year
    form.year = year
    if span.year_tok is not None:
        form.sources["year"] = locate(tokens[span.year_tok])
    # -- funds
    funds = read_funds(tokens, blocks.funds)
    _put_funds(form, funds, locate)
    leftovers += funds.leftovers
    # -- goals
    goals = read_goals(tokens, blocks.goals)
    for key, toks in (("goal_expected", goals.expected), ("goal_actual", goals.actual)):
        toks = [t for t in toks if t.text and not is_empty(t.text)] or toks
        if toks:
            setattr(form, key, "".join(t.text for t in toks))
            form.sources[key] = locate(toks[0], toks)
    stated = _stated_problems(tokens, blocks.trailer)
    if stated:
        form.problems_stated = "".join(t.text for t in stated)
        form.sources["problems_stated"] = locate(stated[0], stated)
    # -- indicators
    cost = 0.0
    has_header = False
    ind_idx = blocks.indicators
    all_rows: list[RowRead] = []
    unit_col = rate_col = grid = False
    headless = True
    for seg, schema, k in segments(tokens, ind_idx):
        if not all_rows and not has_header:
            has_header = schema is not None and sum(1 for x in schema.slots if x in (TVAL, WEIGHT, SCORE)) >= 1
        if schema is not None and schema.from_header and set(schema.slots) & {TVAL, WEIGHT, SCORE}:
            form.deviation_column = bool(form.deviation_column) or DEV in schema.slots
        data = split_name_runs(_trim_block([tokens[i] for i in seg[k:]]))
        if schema is not None and not set(schema.slots) & {TVAL, WEIGHT, SCORE}:
            continue  # a checklist (指标解释 / 自评内容 / 完成情况), not a scored indicator table
        if not data:
            continue
        style = block_style(data)
        f = choose_schema(data, schema, style)
        cost = max(cost, f.cost / max(1, len(data)))
        all_rows.extend(rows_of(f))
        unit_col, rate_col = unit_col or UNIT in f.schema.slots, rate_col or RATE in f.schema.slots
        grid = grid or style.grid
        headless = headless and schema is None
        leftovers += sum(1 for p in f.placed if p.ignored and p.tok.label is None and not p.tok.empty
                         and not level_of(p.tok.text))
    if all_rows:
        form.indicators, form.template_rows = _indicators(all_rows, locate, grid, unit_col, rate_col, span.fragment)
        if headless:
            _equal_weights(form.indicators)
    # -- totals
    _put_total(form, tokens, blocks.total, locate)
    if form.total_score is None and "self_total" in fields:
        v = parse_number(fields["self_total"].text)
        if v is not None:
            form.total_score = v
            form.sources["total_score"] = locate(fields["self_total"].tokens[0])
    pages = [tokens[i].page for i in range(span.start, span.end)]
    form.pages = (min(pages), max(pages)) if pages else None
    return Built(form, leftovers, cost, has_header)


def _equal_weights(inds: list[Indicator]) -> None:
    """With no header to say so, one figure printed after every target, the same on every row and
    none of them an actual of that target's kind, is each row's 分值 (22.5 on four rows), not its
    完成值."""
    rows = [i for i in inds if i.target is not None]
    if len(rows) < 3 or any(i.weight is not None or i.score is not None or i.actual is None for i in rows):
        return
    values = {i.actual for i in rows}
    value = next(iter(values))
    w = parse_number(value)
    if len(values) != 1 or w is None or kind_of(value).name != "number" or not 0 < w * len(rows) <= 100.5:
        return
    for i in rows:
        i.weight = w
        i.sources["weight"] = i.sources.pop("actual")
        i.actual = None


def _transfer_rows(tokens: list[Token], blocks: Blocks) -> bool:
    return sum(1 for i in blocks.mgmt if tokens[i].label is not None and "mgmt.rows" in tokens[i].label.roles
               and fold(tokens[i].text) in ("分配科学性", "下达及时性", "拨付合规性", "使用规范性")) >= 2


def _trim_block(data: list[Token]) -> list[Token]:
    while data and data[-1].empty:
        data.pop()
    while data and data[0].empty and data[0].sep >= Sep.LINE:
        data.pop(0)
    return data


# ---- funds -------------------------------------------------------------------------------------------
def _put_funds(form: Form, funds: FundsRead, locate: Locator) -> None:
    form.funds.unit = funds.unit
    for row in ROWS:
        cells = funds.rows.get(row)
        if not cells:
            continue
        target: FundRow = getattr(form.funds, row)
        for col, cell in cells.items():
            _set_fund(target, col, cell, locate, row == "total")
    total = form.funds.total
    # 执行率 / 权重 / 得分 are merged cells beside the total and its first sub-row: a dump that printed
    # them after the sub-row's amounts still means the total's
    sub = funds.rows.get("fiscal") or {}
    if total.sources and all(getattr(total, c) is None for c in ("rate", "weight", "score")) and \
            any(c in sub for c in ("rate", "weight", "score")):
        for col in ("rate", "weight", "score"):
            if col in sub:
                _set_fund(total, col, sub[col], locate, True)
    if total.weight is None and funds.points is not None and (total.sources or total.full_year is not None):
        total.weight = funds.points
    # a rate printed as a ratio (1 for 100%)
    if total.rate is not None and total.rate <= 1.5:
        fy, ex = total.full_year, total.executed
        if isinstance(fy, float) and isinstance(ex, float) and fy and abs(ex / fy - total.rate) <= 0.006:
            total.rate = round(total.rate * 100, 6)
    for label, cells in funds.extra:
        d: dict = {"label": label}
        for col, cell in cells.items():
            if col in AMOUNT_COLS:
                d[col] = amount_or_text(cell.text)
            elif col == "rate":
                d[col] = rate_number(cell.text)
        form.funds_extra.append(d)


def _set_fund(target: FundRow, col: str, cell: Cellv, locate: Locator, total: bool) -> None:
    if col in AMOUNT_COLS:
        setattr(target, col, amount_or_text(cell.text))
    elif col == "rate":
        target.rate = rate_number(cell.text)
    elif col in ("weight", "score"):
        setattr(target, col, parse_number(cell.text))  # a sub-row's 分值/得分 is kept, not exported
    else:
        return
    if cell.text.strip():
        target.sources[col] = locate(cell.token)


# ---- indicators ----------------------------------------------------------------------------------
@dataclass
class _Row:
    ind: Indicator
    e1: str | None
    e2: str | None
    number: int | None
    template: bool
    grid: bool


def _join_target(cells: dict[str, tuple[str, list[Token]]]) -> tuple[str | None, list[Token]]:
    tval = cells.get("target")
    nature = cells.get("nature")
    unit = cells.get("unit")
    if tval is None:
        return None, []
    text, toks = tval
    out = text
    used = list(toks)
    if nature and _SYMBOL.match(fold(nature[0])) and not fold(text).startswith(("≥", "≤", ">", "<", "=")):
        out = nature[0] + out
        used = nature[1] + used
    if unit and unit[0].strip() and not fold(text).endswith(fold(unit[0])):
        k = kind_of(text).name
        if k in ("number", "cmp") or (k == "text" and fold(text)[-1:].isdigit()):
            out = out + unit[0]
            used = used + unit[1]
    return out, used


def _repeated_name(cells: dict[str, tuple[str, list[Token]]]) -> None:
    """A dump that printed the row's name again where its actual begins: the repeat is no value,
    and the figure after it (taken for a score no column names) is the actual."""
    name, actual, target = cells.get("name"), cells.get("actual"), cells.get("target")
    if not name or not actual or fold(actual[0]) != fold(name[0]):
        return
    if target is None or fold(target[0]) == fold(name[0]):
        return  # a form that repeats its wording in every cell (name = target = actual) means it
    del cells["actual"]
    if "score" in cells and "weight" not in cells:
        cells["actual"] = cells.pop("score")


def _lone_rate(cells: dict[str, tuple[str, list[Token]]]) -> None:
    """A row that prints one share and no actual, in a table with a 得分系数 column: when its score is
    its weight times that share, the share is the 系数 (computed on every row), not a target (which a
    row may leave blank)."""
    if "actual" in cells or "score_rate" in cells or "target" not in cells:
        return
    t = cells["target"][0]
    w, s = (parse_number(cells[k][0]) if k in cells else None for k in ("weight", "score"))
    r = rate_number(t) if kind_of(t).name == "percent" else None
    if r is not None and w is not None and s is not None and abs(w * r / 100 - s) <= 0.01 * max(w, 1):
        cells["score_rate"] = cells.pop("target")


_COUNT_UNITS = frozenset({"人次", "户次", "次数", "人数", "户数", "个数", "项数", "家数", "件数"})


def _unit_from_name(cells: dict[str, tuple[str, list[Token]]]) -> None:
    """Glued text puts a 计量单位 cell at the end of the name before it (``党性教育培训次数次``):
    in a table with a unit column, when that column is empty and the target or actual ends with
    the same unit, the unit is moved out of the name."""
    if "unit" in cells or "name" not in cells:
        return
    name, toks = cells["name"]
    for v in (cells.get("target"), cells.get("actual")):
        m = re.search(r"\d([^\d\W%]{1,3})$", fold(v[0])) if v else None
        if m and fold(name).endswith(m.group(1)) and len(fold(name)) > len(m.group(1)) + 2:
            u = m.group(1)
            cells["name"] = (name[: len(name) - len(u)], toks)
            cells["unit"] = (u, toks)
            return
    # a measure unit (万亩, 公里, 平方米) glued to the name of a row whose target is a bare figure;
    # counting words (人次, 户) may end a name and stay
    tv = cells.get("target")
    if tv is None or kind_of(tv[0]).name != "number":
        return
    f = fold(name)
    for n in (3, 2):
        u = f[-n:]
        if len(f) > n + 3 and u not in _COUNT_UNITS and kind_of(u).name == "unit" and not kind_of(f[-n - 1:]).name == "unit":
            cells["name"] = (name[: len(name) - n], toks)
            cells["unit"] = (name[len(name) - n:], toks)
            return


def _indicators(rows: list[RowRead], locate: Locator, grid: bool, unit_col: bool = False,
                rate_col: bool = False, fragment: bool = False) -> tuple[list[Indicator], list[SourceRef]]:
    parsed: list[_Row] = []
    for r in rows:
        cells = r.cells
        e1 = e2 = None
        for kind, tok in r.levels:
            lv = level_of(tok.text)
            text = level_text(tok.text)
            if kind == "L1" and e1 is None:
                e1 = text
            elif kind == "L2" and e2 is None:
                e2 = text
            elif kind == "LEAD":
                if "L1" in lv and e1 is None:
                    e1 = text
                elif lv and e2 is None:
                    e2 = text
        name = cells.get("name")
        values = {k: v for k, v in cells.items() if k not in ("name", "spacer", "other", "standard", "core")}
        if name is None and not values:
            if e1 or e2:
                parsed.append(_Row(Indicator(), e1, e2, None, True, grid))  # a group label row: no row
                parsed[-1].ind.sources["_levels_only"] = locate(r.levels[0][1])
            continue
        if name is not None and not values and (is_torn_points(name[0]) or _block_heading(name[0])):
            continue  # a points cell torn from its heading, or a block's heading (项目年度目标) among the rows
        if name is not None and is_template_name(name[0]) and not values:
            tr = _Row(Indicator(), e1, e2, None, True, grid)
            tr.ind.sources["name"] = locate(name[1][0], name[1])
            parsed.append(tr)
            continue
        if unit_col:
            _unit_from_name(cells)
            name = cells.get("name")
        if rate_col:
            _lone_rate(cells)
        _repeated_name(cells)
        ind = Indicator(name=_after_rule(name[0]) if name else None)
        if name:
            ind.sources["name"] = locate(name[1][0], name[1])
        target, ttoks = _join_target(cells)
        if target is not None and not is_empty(target):
            ind.target = target
            ind.sources["target"] = locate(ttoks[0], ttoks)
        if "nature" in cells:
            ind.nature = cells["nature"][0]
        if "unit" in cells:
            ind.unit = cells["unit"][0]
        for key in ("actual", "deviation", "target_adjusted", "score_rate"):
            if key in cells and not is_empty(cells[key][0]):
                setattr(ind, key, cells[key][0])
                ind.sources[key] = locate(cells[key][1][0], cells[key][1])
        for key in ("weight", "score", "review_score"):
            if key in cells:
                v = parse_number(cells[key][0])
                if v is not None:
                    setattr(ind, key, v)
                    ind.sources[key] = locate(cells[key][1][0], cells[key][1])
        if _prose_row(ind):
            # a wrapped line of a scoring rule (``1 分; 没有不得分。``), not an indicator: its level
            # cells still head the group
            if e1 or e2:
                parsed.append(_Row(Indicator(), e1, e2, None, True, grid))
            continue
        parsed.append(_Row(ind, e1, e2, _row_number(ind.name), False, grid))
    _levels(parsed, fragment)
    inds = [p.ind for p in parsed if not p.template]
    for attr in ("level1", "level2"):
        _regroup_by_points(inds, attr)
    templates = [p.ind.sources["name"] for p in parsed if p.template and "name" in p.ind.sources]
    _join_broken_labels(inds)
    return inds, templates


_SENTENCE = lazy_compile(r"[。；;！？]")
_SCORING_RULE = lazy_compile(r"\d\s*分|不得分|扣\d|扣完")
_RULE_THEN_NAME = lazy_compile(r"^(.*[。；;，,])\s*([^。；;，,\s]{2,12})$")


def _after_rule(name: str) -> str:
    """A scoring rule's wrapped line run into the name after it (``1 分; 财务制度``): the name."""
    m = _RULE_THEN_NAME.match(name)
    if m and _SCORING_RULE.search(fold(m.group(1))):
        return m.group(2)
    return name


_RULE_TEXT = lazy_compile(r"^[\d.\s]*分|\d\s*分[。；;，,]|不得分|扣\d|扣完|^[、，,;；。)）]")


def _prose_row(ind: Indicator) -> bool:
    """A row whose 'name' is a piece of a sentence (a wrapped 评价标准 line): with no figure at all,
    or, whatever figures the fit gave it, a piece of a scoring rule (``0.5 分,扣完为止;``)."""
    if ind.name is None:
        return False
    name = fold(ind.name)
    if _RULE_TEXT.search(name):
        return True
    if any(v is not None for v in (ind.target, ind.actual, ind.weight, ind.score)):
        return False
    return bool(_SENTENCE.search(name))


def _row_number(name: str | None) -> int | None:
    m = _NUM_PREFIX.match(fold(name)) if name else None
    return int(m.group(1)) if m else None


_FAMILY = {
    "产出": ("数量", "质量", "时效", "进度", "成本", "经济成本", "社会成本", "生态环境成本", "生态成本", "环境成本"),
    "效益": ("经济效益", "社会效益", "生态效益", "环境效益", "可持续影响", "可持续发展", "可持续"),
    "满意度": ("服务对象满意度", "满意度", "社会公众满意度", "公众满意度", "社会公众或服务对象满意度",
             "群众满意度", "受益对象满意度"),
    "成本": ("经济成本", "社会成本", "生态环境成本", "生态成本", "环境成本"),
}


def _core(text: str | None) -> str:
    t = strip_decorations(fold(text or "")).core
    t = re.sub(r"\d+(?:\.\d+)?分$", "", t)
    for suffix in ("类指标", "指标", "标", "指"):
        if t.endswith(suffix):
            return t[: -len(suffix)]
    return t


def _family(l2: str | None) -> str | None:
    c = _core(l2)
    return next((f for f, members in _FAMILY.items() if c in members), None)


def _block_heading(text: str) -> bool:
    """A cell that heads a block of the form (项目年度目标, 项目资金), not an indicator's name."""
    m = match(text)
    return m is not None and any(r.startswith("block.") and r != "block.indicators" for r in m.roles)


def _levels(parsed: list[_Row], fragment: bool = False) -> None:
    """Fill levels down their groups; resolve labels that may be either level; carry a label
    printed mid-group back over the group's earlier rows (text dumps of PDFs). A table's tail on a
    new page (a fragment) begins inside the previous page's group: rows before its first label keep
    no label."""
    l1: str | None = None
    l2: str | None = None
    for p in parsed:
        e1, e2 = p.e1, p.e2
        if e1 and not e2 and (l1 and _ambiguous_second(e1, l1) or l1 is None and _core(e1) == "成本"
                              and level_of(e1) >= {"L1", "L2"}):
            e1, e2 = None, e1  # 成本指标 alone on a row: the second level under 产出指标
        if e2 and not e1 and level_of(e2) == frozenset({"L1"}):
            e1, e2 = e2, None
        if e1 and e2 and _family(e2) and "L1" in level_of(e1) and \
                not any(c in fold(e1) for c in ("产出", "效益", "满意", "成本")):
            e2 = None  # 服务对象满意度指标 beside 过程指标: an empty group's label, not this first level's part
        if e1:
            fam = _family(l2)
            if l1 is not None and _core(e1) != _core(l1) and not e2 and fam and fam != _core(e1) and not (
                    fam == "成本" and _core(e1) == "产出"):
                l2 = None  # a new first level: the old second level belongs to another family
            l1 = e1
        if e2:
            l2 = e2
        p.e1, p.e2 = e1, e2
        p.ind.level1, p.ind.level2 = l1, l2
    rows = [p for p in parsed if not p.template or "_levels_only" in p.ind.sources]
    _carry_back(parsed)
    if any(p.grid for p in parsed) or fragment:
        return
    # rows before the first printed label take it, unless the numbering shows they are another group
    for attr, key in (("level1", "e1"), ("level2", "e2")):
        first = next((k for k, p in enumerate(rows) if getattr(p, key)), None)
        if first is None or first == 0:
            continue
        label = getattr(rows[first], key)
        restart = any(rows[k].number is not None and rows[k - 1].number is not None and rows[k].number <= rows[k - 1].number
                      for k in range(1, first + 1))
        if restart:
            continue
        for p in rows[:first]:
            if getattr(p.ind, attr) is None:
                if attr == "level1" and p.ind.level2 and _family(p.ind.level2) and _family(p.ind.level2) != _core(label):
                    continue
                if attr == "level2" and p.e1 is None and p.ind.level1 and _family(label) and \
                        _core(p.ind.level1) not in (_family(label), "成本" if _family(label) == "产出" else ""):
                    continue  # rows under another printed first level (项目决策) are no part of this group
                if attr == "level2" and p.e1 is not None and _family(label) and _core(p.e1) != _family(label):
                    continue
                setattr(p.ind, attr, label)
    # a second level that belongs to another printed first level's family takes that first level
    printed = {_core(p.e1): p.e1 for p in parsed if p.e1}
    for p in rows:
        if p.e1 or not p.ind.level2:
            continue
        fam = _family(p.ind.level2)
        if fam == "成本" and "成本" not in printed:
            fam = "产出"
        if fam and fam in printed and _core(p.ind.level1) != fam:
            p.ind.level1 = printed[fam]


_POINTS_TAIL = lazy_compile(r"[(（]?(\d+(?:\.\d+)?)分[)）]?$")


def _label_points(label: str | None) -> float | None:
    if not label:
        return None
    m = _POINTS_TAIL.search(fold(label))
    return float(m.group(1)) if m else None


def _points(rows: list[Indicator]) -> float:
    return sum(i.weight or 0 for i in rows)


def _regroup_by_points(inds: list[Indicator], attr: str) -> None:
    """Labels that carry their points (项目决策 2分, 项目管理 13分) say how many rows are theirs:
    when a group's weights pass its points and its last rows make the next group's add up, those
    rows belong to the next label (a merged label a dump printed in the middle of its group)."""
    groups: list[list[Indicator]] = []
    for i in inds:
        if groups and getattr(groups[-1][0], attr) == getattr(i, attr):
            groups[-1].append(i)
        else:
            groups.append([i])
    for a, b in zip(groups, groups[1:]):
        pa, pb = _label_points(getattr(a[0], attr)), _label_points(getattr(b[0], attr))
        if pa is None or pb is None or any(i.weight is None for i in a):
            continue
        # the next group as far as its rows carry weights (a later table may follow it)
        k = 0
        while k < len(b) and b[k].weight is not None:
            k += 1
        b = b[:k]
        if _points(a) <= pa + 0.01:
            continue
        for m in range(1, len(a)):
            head, tail = a[:-m], a[-m:]
            if abs(_points(head) - pa) <= 0.01 and abs(_points(tail + b) - pb) <= 0.01:
                for i in tail:
                    setattr(i, attr, getattr(b[0], attr))
                break


def _ambiguous_second(label: str, l1: str) -> bool:
    """成本指标 under 产出指标, 满意度指标 under 满意度指标: a second level, not a new first level."""
    core = _core(label)
    cur = _core(l1)
    return (core == "成本" and cur == "产出") or (core == "满意度" and cur == "满意度") or (
        level_of(label) >= {"L1", "L2"} and cur in _FAMILY and core in _FAMILY.get(cur, ()))


def _carry_back(parsed: list[_Row]) -> None:
    """Give a restarted numbering run the label printed on its continuing row (PDF dumps only)."""
    pending: int | None = None
    prev_num: int | None = None
    for k, p in enumerate(parsed):
        if p.template:
            continue
        if p.e2 is not None:
            if (pending is not None and not p.grid and p.number is not None and prev_num is not None
                    and p.number == prev_num + 1):
                for q in parsed[pending:k]:
                    if not q.template:
                        q.ind.level2 = p.ind.level2
                        if p.e1:
                            q.ind.level1 = p.ind.level1
            pending = None
        elif p.number is not None and prev_num is not None and p.number <= prev_num and pending is None:
            pending = k
        if p.number is not None:
            prev_num = p.number


def _join_broken_labels(inds: list[Indicator]) -> None:
    """A level label cut at a line or page break (可持续影响指 | 标): its tail joined back."""
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
            if v and v.endswith("指") and "标" not in v:
                setattr(ind, attr, v + "标")


# ---- totals --------------------------------------------------------------------------------------
def _put_total(form: Form, tokens: list[Token], idx: list[int], locate: Locator) -> None:
    if not idx:
        return
    vals = [tokens[i] for i in idx[1:] if not tokens[i].empty]
    nums: list[tuple[float, Token]] = []
    for t in vals:
        v = parse_number(t.text)
        if v is not None:
            nums.append((v, t))
    weights = sum(i.weight or 0 for i in form.indicators) + (form.funds.total.weight or 0)
    scores = sum(i.score or 0 for i in form.indicators) + (form.funds.total.score or 0)
    if len(nums) == 1 and nums[0][1].glued and is_run(nums[0][1].text):
        best = None
        for a, b in splits(nums[0][1].text, 2):
            w, s = float(a), float(b)
            c = (0 if s <= w else 5) + (0 if w == 100 else 1) + (0 if abs(w - weights) < 0.5 else 0.5) + (
                0 if abs(s - scores) < 0.5 else 0.5)
            if best is None or c < best[0]:
                best = (c, w, s)
        whole = float(nums[0][0])
        # the run may be one figure (a form with no 分值 column prints only its 总分 score: ``总分100``)
        whole_cost = 0.5 + (0 if abs(whole - weights) < 0.5 or abs(whole - scores) < 0.5 else 0.5)
        if best is not None and best[0] < 5 and not (whole <= 100 and whole_cost <= best[0]):
            form.total_weight, form.total_score = best[1], best[2]
            form.sources["total_weight"] = form.sources["total_score"] = locate(nums[0][1])
            return
    if len(nums) >= 2:
        (w, tw), (s, ts) = nums[0], nums[1]
        form.total_weight, form.total_score = w, s
        form.sources["total_weight"] = locate(tw)
        form.sources["total_score"] = locate(ts)
    elif nums:
        v, t = nums[0]
        has_scores = any(i.score is not None for i in form.indicators)
        has_weights = any(i.weight is not None for i in form.indicators)
        if v == 100 and not (has_scores and not has_weights) or (has_weights and abs(v - weights) < 0.5 and
                                                                  abs(v - scores) >= 0.5):
            form.total_weight = v
            form.sources["total_weight"] = locate(t)
        else:
            form.total_score = v
            form.sources["total_score"] = locate(t)
