"""Find every form in the stream, and the blocks each one is made of.

A form opens at its title (``…自评表``, ``…绩效评价表``) or at an anchor label anywhere in a line
(项目名称, 转移支付(项目)名称, 专项名称), whichever comes first, and runs to the next form. Its year
is the one in its own heading. Indicator rows with no form open above them (a table tail cut off
from its page) are a fragment of their own. Inside a form, labels switch between blocks: header
fields, 项目资金, 年度总体目标, 资金管理情况, 绩效指标, 总分, and what follows (评价结论, 存在问题 …).
A header field label anywhere takes its value and the block goes on, so a scrambled dump that
prints 实施单位 in the middle of the funds table loses nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from extractor.core.lazy_regex import lazy_compile
from extractor.core.vocabulary import ANCHOR_ROLES, fold, is_title, level_of, report_marker, title_kind
from extractor.reading.fields import value_kind
from extractor.reading.stream import Sep, Token

_SECTION = lazy_compile(r"^\s*(?:[一二三四五六七八九十]{1,3}、|第[一二三四五六七八九十]{1,3}[章部分节])")
_HEADING_YEAR = lazy_compile(r"^(?:[(（]\s*(20\d{2})\s*(?:年度?)?\s*[)）]|[(（]?\s*(20\d{2})\s*年度\s*[)）]?)$")


@lru_cache(maxsize=65536)
def heading_year(text: str) -> int | None:
    """The year a heading names: ``(2023年度)``, ``2022年度)``, a title ``2023年度…自评表``."""
    f = fold(text)
    m = _HEADING_YEAR.match(f)
    if m:
        return int(m.group(1) or m.group(2))
    if is_title(text):
        for m in re.finditer(r"(20\d{2})\s*年", f):
            return int(m.group(1))
        m = re.search(r"[(（](20\d{2})[)）]", f)
        if m:
            return int(m.group(1))
    return None


@dataclass
class FormSpan:
    """The tokens of one form (or fragment)."""

    start: int
    end: int = 0
    title: int | None = None
    anchor: int | None = None
    kind: str = "project"  # project, department, transfer, target
    year: int | None = None
    year_tok: int | None = None
    fragment: bool = False
    content: bool = False  # funds, goals or indicators seen
    closed: bool = False  # its 总分 row (or what follows it) seen
    in_report: bool = False  # opened by an anchor inside a narrative report, with no form title


def _is_anchor(tok: Token) -> bool:
    return tok.label is not None and any(r in ANCHOR_ROLES for r in tok.label.roles)


def _content_role(tok: Token) -> bool:
    lab = tok.label
    if lab is None:
        return False
    return any(r.startswith(("fund_row.", "fund_col.", "block.funds", "block.goals", "goal.", "ind_col.",
                             "block.indicators", "level.")) for r in lab.roles)


def _indicator_start(tokens: list[Token], i: int) -> bool:
    """An indicator header, or a level label followed by a row, with no form open."""
    lab = tokens[i].label
    if lab is None:
        return False
    roles = lab.roles
    if roles & {"ind_col.name", "ind_col.level1", "ind_col.level2"}:
        near = [t for t in tokens[i + 1:i + 6] if t.label is not None and t.label.has("ind_col.")]
        return len(near) >= 2
    if level_of(tokens[i].text) and fold(tokens[i].text).endswith(("指标", "标")):
        rest = [t for t in tokens[i + 1:i + 9] if not t.empty]
        if any(len(t.text) > 40 and "。" in t.text for t in rest[:6]):
            return False  # a report's paragraph about its 产出指标, not a table row
        return sum(1 for t in rest if t.kind.figure or t.kind.name == "nature") >= 2
    return False


def _rows_before(tokens: list[Token], i: int, floor: int) -> int:
    """Where a table tail really starts: indicator rows before its first level label (a cut-off
    group prints no label) belong to it, back to the last line that is not such a row."""
    j = i
    while j > floor:
        t = tokens[j - 1]
        if t.label is not None or (len(t.text) > 40 and not t.kind.digits) or is_title(t.text):
            break
        if tokens[j].col >= 0 and t.col < 0:
            break  # out of the table's cells into the page's text (a site's header lines)
        j -= 1
    seg = tokens[j:i]
    if not any(t.kind.figure or t.kind.name == "nature" for t in seg):
        return i
    while j < i and tokens[j].sep < Sep.LINE and j > floor:
        j += 1  # start at a line boundary
    return j


def _rows_after_break(tokens: list[Token], i: int) -> int:
    """A tail after a finished form starts at the blank line or page break before its first rows,
    when no label stands between them."""
    j = i
    while j > 0 and tokens[j].sep < Sep.BLANK:
        t = tokens[j - 1]
        if t.label is not None or is_title(t.text) or (len(t.text) > 40 and not t.kind.digits):
            return i
        j -= 1
    seg = tokens[j:i]
    return j if any(t.kind.figure or t.kind.name in ("nature", "qual") for t in seg) else i


def _closing(tok: Token) -> bool:
    lab = tok.label
    return lab is not None and ("total" in lab.roles or lab.has("block.trailer")) and not lab.has("ind_col.")


def find_forms(tokens: list[Token]) -> list[FormSpan]:
    """Every form and fragment, in order."""
    forms: list[FormSpan] = []
    cur: FormSpan | None = None
    report_doc = any(report_marker(t.text) for t in tokens if t.sep >= Sep.LINE)
    pending_year: tuple[int, int] | None = None  # (year, token) of a heading seen after a closed form
    in_indicators = False
    report_seen = False
    for i, tok in enumerate(tokens):
        text = tok.text
        if not text:
            continue
        title = is_title(text) if len(text) <= 80 else None
        if title == "report" and not in_indicators and tok.sep >= Sep.LINE:
            if cur is not None and (cur.anchor is not None or cur.content):
                cur = None  # a report begins: its tables are not this form's
            report_seen = True
            continue
        if title == "report":
            title = None
        if title and tok.label is None:
            # a file's name (…自评表.pdf) is no heading of the form: its year is the file's label
            y = None if _FILE_NAME.search(text) else heading_year(text)
            if cur is None or cur.anchor is not None or cur.content:
                cur = FormSpan(i, title=i, kind="target" if title == "target" else (title_kind(text) or "project"))
                if pending_year and not y:
                    cur.year, cur.year_tok = pending_year
                    cur.start = min(cur.start, pending_year[1])
                forms.append(cur)
            else:
                cur.title = i
                cur.kind = "target" if title == "target" else (title_kind(text) or cur.kind)
            if y:
                cur.year, cur.year_tok = y, i
            pending_year = None
            in_indicators = False
            continue
        y = heading_year(text) if tok.label is None and len(text) <= 14 else None
        if y:
            if cur is not None and cur.anchor is None and not cur.content and not cur.fragment:
                cur.year, cur.year_tok = y, i
            else:
                pending_year = (y, i)
            continue
        if _is_anchor(tok):
            if cur is None or cur.anchor is not None or cur.content or cur.fragment:
                cur = FormSpan(i, anchor=i, in_report=report_seen or report_doc)
                if pending_year:
                    cur.year, cur.year_tok = pending_year
                    cur.start = pending_year[1]
                forms.append(cur)
            else:
                cur.anchor = i
            if tok.label is not None and "转移支付" in fold(text):
                cur.kind = "transfer"
            pending_year = None
            in_indicators = False
            continue
        if cur is None or cur.closed:
            if _indicator_start(tokens, i):
                # rows before the first level label belong to a tail at the top of the document;
                # after a finished form they are that form's closing cells
                start = _rows_before(tokens, i, 0) if cur is None and not forms else _rows_after_break(tokens, i)
                cur = FormSpan(start, fragment=True, content=True, in_report=report_seen or report_doc)
                forms.append(cur)
                in_indicators = True
                pending_year = None
            continue
        if _content_role(tok):
            cur.content = True
            lab = tok.label
            if lab is not None and (lab.has("ind_col.") or lab.has("level.") or "block.indicators" in lab.roles):
                in_indicators = True
        if in_indicators and _closing(tok):
            cur.closed = True
    for k, f in enumerate(forms):
        f.end = forms[k + 1].start if k + 1 < len(forms) else len(tokens)
    return [f for f in forms if f.end > f.start]


# ---- blocks inside one form ------------------------------------------------------------------------
HEAD, FUNDS, GOALS, MGMT, IND, TOTAL, TRAILER = "head", "funds", "goals", "mgmt", "ind", "total", "trailer"


@dataclass
class Blocks:
    """A form's tokens sorted into blocks (indices into the stream)."""

    fields: list[tuple[int, list[int]]] = field(default_factory=list)  # (label token, value tokens)
    funds: list[int] = field(default_factory=list)
    goals: list[int] = field(default_factory=list)
    mgmt: list[int] = field(default_factory=list)
    indicators: list[int] = field(default_factory=list)
    total: list[int] = field(default_factory=list)
    trailer: list[int] = field(default_factory=list)
    head: list[int] = field(default_factory=list)  # unlabelled text before the first block


_IND_ENTRY = {"ind_col.level1", "ind_col.level2", "ind_col.name", "block.indicators"}


def _enters_indicators(tokens: list[Token], i: int, end: int) -> bool:
    lab = tokens[i].label
    assert lab is not None
    if lab.roles & {"ind_col.level1", "ind_col.level2", "ind_col.name"}:
        return True
    if "block.indicators" in lab.roles:
        nxt = [t for t in tokens[i + 1:min(end, i + 5)] if t.text]
        return any(t.label is not None and (t.label.has("ind_col.") or t.label.has("level.")) for t in nxt)
    if lab.has("level.") and fold(tokens[i].text).endswith(("指标", "标")):
        nxt = [t for t in tokens[i + 1:min(end, i + 4)] if t.text]
        return bool(nxt) and (nxt[0].label is None or nxt[0].label.has("level."))
    return False


def _field_values(tokens: list[Token], i: int, end: int) -> list[int]:
    """The value cells of the field label at ``i``: the next filled cell, and the pieces glued or
    spaced onto it, up to the next label."""
    out: list[int] = []
    j = i + 1
    while j < end and tokens[j].empty and tokens[j].sep <= Sep.CELL:
        j += 1
    if j >= end:
        return out
    t = tokens[j]
    if t.label is not None or t.empty or is_title(t.text):
        return out
    out.append(j)
    k = j + 1
    while k < end and tokens[k].sep in (Sep.NONE, Sep.SPACE) and tokens[k].label is None and tokens[k].text:
        if tokens[k].sep == Sep.SPACE and tokens[j].sep not in (Sep.SPACE, Sep.NONE) and tokens[j].sep != Sep.LINE:
            break
        if tokens[k].sep == Sep.SPACE and (_OPTION.search(tokens[k].text) or (
                value_kind(tokens[k].text) == "org" and value_kind(tokens[k - 1].text) == "org")):
            break  # a checkbox list after the value, or a second unit's name: another cell
        out.append(k)
        k += 1
    return out


_FILE_NAME = lazy_compile(r"\.(?:pdf|docx?|xlsx?|wps|et|txt|html?)\s*$", re.I)
_OPTION = lazy_compile(r"[□☑√■☐]|^\d[、.]")


def _in_header(tokens: list[Token], ind: list[int]) -> bool:
    """Whether the indicator block so far holds only its header (labels)."""
    return bool(ind) and all(tokens[i].label is not None or tokens[i].empty for i in ind)


def _figure_follows(tokens: list[Token], i: int, end: int) -> bool:
    nxt = [t for t in tokens[i + 1:min(end, i + 3)] if not t.empty]
    return bool(nxt) and nxt[0].kind.name in ("number", "amount")


def _is_field(tok: Token) -> bool:
    return tok.label is not None and tok.label.has("field.")


def _label_row(tokens: list[Token], i: int, end: int) -> list[tuple[int, int]] | None:
    """A row of field labels followed by a row of their values, paired in order, or None."""
    labels = [i]
    j = i + 1
    while j < end and (tokens[j].empty or _is_field(tokens[j])) and tokens[j].sep <= Sep.LINE:
        if _is_field(tokens[j]):
            labels.append(j)
        j += 1
    if len(labels) < 2 or j >= end or tokens[j].sep < Sep.LINE:
        return None
    values = []
    k = j
    while k < end and len(values) < len(labels):
        t = tokens[k]
        if t.label is not None:
            break
        if not t.empty:
            values.append(k)
        k += 1
    if len(values) != len(labels):
        return None
    return list(zip(labels, values))


def split_blocks(tokens: list[Token], span: FormSpan) -> Blocks:
    """Sort a form's tokens into blocks."""
    b = Blocks()
    state = IND if span.fragment else HEAD
    used: set[int] = set()
    i = span.start
    end = span.end
    total_left = 0
    while i < end:
        tok = tokens[i]
        if i in used or not tok.text and state not in (IND, FUNDS):
            i += 1
            continue
        lab = tok.label
        roles = lab.roles if lab is not None else frozenset()
        if roles and state == TRAILER and (b.indicators or b.total) and not (lab is not None and lab.has("field.")) and not (
                (roles & _IND_ENTRY or lab is not None and lab.has("level.")) and _enters_indicators(tokens, i, end)):
            b.trailer.append(i)  # what follows the 总分 row (评价结论, 存在问题 …) stays there
            i += 1
            continue
        if roles:
            if (state == IND and lab is not None and lab.has("fund_row.") and not b.funds
                    and _figure_follows(tokens, i, end) and "total" not in roles):
                state = FUNDS  # a funds table printed inside a checklist's indicator rows
                b.funds.append(i)
                i += 1
                continue
            if state == IND and roles & {"ind_col.unit", "ind_col.weight", "ind_col.score", "ind_col.target",
                                         "ind_col.actual", "ind_col.name", "ind_col.level1", "ind_col.level2"}:
                b.indicators.append(i)
                i += 1
                continue
            field_role = next((r for r in roles if r.startswith("field.")), None)
            if field_role and not (state == FUNDS and any(r.startswith("fund_col.") for r in roles)):
                run = _label_row(tokens, i, end)
                if run:
                    for li, vi in run:
                        used.add(vi)
                        b.fields.append((li, [vi]))
                    i = run[-1][0] + 1
                    continue
                vals = _field_values(tokens, i, end)
                used.update(vals)
                b.fields.append((i, vals))
                i = (vals[-1] + 1) if vals else i + 1
                continue
            if "total" in roles and state in (IND, TOTAL) or ("total" in roles and state in (GOALS,) and
                                                                 b.indicators):
                state = TOTAL
                b.total.append(i)
                total_left = 2
                i += 1
                continue
            if lab is not None and lab.has("block.trailer") and not (
                    state == IND and lab.has("ind_col.") and _in_header(tokens, b.indicators)):
                state = TRAILER
                b.trailer.append(i)
                i += 1
                continue
            if state != IND and (roles & _IND_ENTRY or lab.has("level.")) and _enters_indicators(tokens, i, end):
                state = IND
                b.indicators.append(i)
                i += 1
                continue
            if state != IND and (lab.has("fund_row.") or lab.has("fund_col.") or "block.funds" in roles):
                if state in (HEAD, FUNDS, GOALS, MGMT) and not (state == GOALS and not lab.has("fund_row.")
                                                               and not lab.has("fund_col.")):
                    state = FUNDS
                    b.funds.append(i)
                    i += 1
                    continue
            if state != IND and (lab.has("goal.") or "block.goals" in roles):
                state = GOALS
                b.goals.append(i)
                i += 1
                continue
            if state != IND and (lab.has("mgmt.") or "block.management" in roles):
                state = MGMT
                b.mgmt.append(i)
                i += 1
                continue
            if state == IND and lab.has("level."):
                b.indicators.append(i)
                i += 1
                continue
        if state == IND and tok.sep >= Sep.LINE and _SECTION.match(tok.text) and b.indicators:
            state = TRAILER  # a report's next numbered section: the table is over
            b.trailer.append(i)
            i += 1
            continue
        if state == TOTAL:
            if total_left > 0 and (tok.kind.name in ("number", "percent") or tok.empty):
                b.total.append(i)
                if not tok.empty:
                    total_left -= 1
                i += 1
                continue
            state = TRAILER
        {HEAD: b.head, FUNDS: b.funds, GOALS: b.goals, MGMT: b.mgmt, IND: b.indicators,
         TRAILER: b.trailer}[state].append(i)
        i += 1
    return b
