"""The 绩效指标 table: a schema from its header, then the cells fitted to the schema.

The header gives the columns in the order the form prints them (a split 年度指标值 becomes 指标性质 /
指标值 / 度量单位; an empty spacer column is kept as one; 分值 is told from 权重 and 复核分). The
cells after it are fitted to those columns as a whole, by one dynamic programme over the stream
(Viterbi): each cell is placed in a column by what it holds (a level label, a name, a figure, a
small 分值, a reason), rows are cut where the fit and the separators agree, a merged level cell may be
missing from a row, a dump may drop empty cells, and a run of glued digits may fill several columns
(``1010`` -> 10 | 10, cut where score ≤ weight holds). Line breaks and separators are evidence
with a price, not rules, so pipe rows whose breaks are not row boundaries, one cell per line, and a
whole table on one line are read by the same code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from extractor.core.vocabulary import custom_level, fold, is_label_part, level_of
from extractor.reading.digits import is_run, plausible_weight, splits
from extractor.reading.stream import Sep, Token
from extractor.reading.values import kind_of

# slot kinds
LEAD, L1, L2, NAME, NATURE, TVAL, UNIT, TADJ, ACTUAL, WEIGHT, SCORE, REVIEW, RATE, DEV, STD, CORE, SPACER, OTHER = range(18)
SLOT_NAMES = ["lead", "level1", "level2", "name", "nature", "target", "unit", "target_adjusted", "actual", "weight",
              "score", "review_score", "score_rate", "deviation", "standard", "core", "spacer", "other"]
_ROLE_SLOT = {"label": LEAD, "level1": L1, "level2": L2, "name": NAME, "nature": NATURE, "target": TVAL,
              "value": TVAL, "unit": UNIT, "target_adjusted": TADJ, "actual": ACTUAL, "weight": WEIGHT,
              "score": SCORE, "review_score": REVIEW, "score_rate": RATE, "deviation": DEV, "standard": STD,
              "core": CORE, "remark": OTHER}
NUMERIC = frozenset({TVAL, ACTUAL, WEIGHT, SCORE, REVIEW, RATE, TADJ})
JOINABLE = frozenset({NAME, DEV, STD, TVAL, ACTUAL, TADJ, OTHER})
INF = 1e9


@dataclass
class Schema:
    """The indicator table's columns, in print order (slot kinds), with header column positions."""

    slots: list[int]
    cols: list[int]  # grid column of each slot's header cell, -1 unknown
    width: int = -1  # cells in the header's grid row, -1 unknown
    points: float | None = None  # the table's points note: 绩效指标(90分)
    from_header: bool = False

    @property
    def name_index(self) -> int:
        return self.slots.index(NAME) if NAME in self.slots else 0


DEFAULT = [L1, L2, NAME, TVAL, ACTUAL, WEIGHT, SCORE, DEV]
SICHUAN = [L1, L2, NAME, NATURE, TVAL, UNIT, ACTUAL, WEIGHT, SCORE, DEV]


def _ind_role(tok: Token) -> str | None:
    lab = tok.label
    if lab is None:
        return None
    if "block.indicators" in lab.roles:
        return "label"
    return lab.role("ind_col.")


def _second_header_row(tokens: list[Token], idx: list[int], k: int) -> bool:
    """Whether the line starting at ``idx[k]`` (empty leading cells) holds header labels only."""
    j = k
    seen = False
    while j < len(idx):
        t = tokens[idx[j]]
        if j > k and t.sep > Sep.CELL:
            break
        if not t.empty:
            if _ind_role(t) in ("nature", "value", "unit", "target") or (t.label is not None and t.label.has("ind_col.")):
                seen = True
            else:
                return False
        j += 1
    return seen


_TRAILING_ROLES = ("review_score", "standard", "deviation")


def parse_header(tokens: list[Token], idx: list[int]) -> tuple[Schema | None, int]:
    """The schema the block's header gives, and where the rows start (index into ``idx``)."""
    roles: list[tuple[str, Token]] = []
    k = 0
    points = None
    while k < len(idx):
        t = tokens[idx[k]]
        role = _ind_role(t)
        if role is not None and not (role == "label" and roles and roles[-1][0] != "label" and False):
            if t.label is not None and t.label.points is not None and role == "label":
                points = t.label.points
            roles.append((role, t))
            k += 1
            continue
        if t.empty and roles and t.sep <= Sep.CELL:
            roles.append(("spacer", t))
            k += 1
            continue
        if t.empty and roles and _second_header_row(tokens, idx, k):
            roles.append(("newrow", t))  # a second header row begins (its leading cells are empty)
            k += 1
            continue
        if (t.label is None and roles and len(fold(t.text)) <= 8 and not t.kind.figure and not level_of(t.text)
                and k + 1 < len(idx) and _ind_role(tokens[idx[k + 1]]) not in (None, "label")):
            roles.append(("other", t))  # a column name the vocabulary does not know
            k += 1
            continue
        break
    # a second header row naming the parts of a split 年度指标值 (指标性质 / 指标值 / 度量单位)
    while roles and roles[-1][0] in ("spacer", "newrow"):
        roles.pop()
    if any(r == "newrow" for r, _ in roles):
        cut = next(i for i, (r, _) in enumerate(roles) if r == "newrow")
        second = [x for x in roles[cut:] if x[0] not in ("spacer", "newrow")]
        roles = roles[:cut] + second
    if not roles or not any(r in ("name", "level1", "level2", "target", "actual") for r, _ in roles):
        return None, 0
    # the 绩效指标 heading on a line of its own is not a column
    if roles[0][0] == "label" and len(roles) > 2 and roles[1][1].sep >= Sep.LINE and roles[2][1].sep <= Sep.CELL:
        roles = roles[1:]
    names = [r for r, _ in roles]
    if "nature" in names and "target" in names and names.index("target") < names.index("nature"):
        # 年度指标值 over 指标性质 / 指标值 / 度量单位: the parts replace the group's header
        ti = names.index("target")
        first_sub = next(i for i, r in enumerate(names) if r in ("nature", "unit", "value") and i > ti)
        parts = []
        j = first_sub
        while j < len(roles) and roles[j][0] in ("nature", "value", "unit", "target", "spacer"):
            if roles[j][0] != "spacer":
                parts.append(roles[j])
            j += 1
        rest = [r for r in roles[ti + 1:first_sub] if r[0] != "spacer"]
        roles = roles[:ti] + parts + rest + roles[j:]
    if any(r in ("weight", "score") for r, _ in roles):
        # the last header cells (复核分, 评价标准) wrapped by a PDF dump below the first row's cells
        names_now = [r for r, _ in roles]
        for j in range(k, min(len(idx), k + 8)):
            t = tokens[idx[j]]
            role = _ind_role(t)
            if role in _TRAILING_ROLES and role not in names_now and not level_of(t.text):
                roles.append((role, t))
                names_now.append(role)
    if not any(r in ("target", "actual", "weight", "score") for r, _ in roles):
        # a dump that printed the header's cells among the first row's (A4): the value columns
        # are the header labels that follow within the next cells, in their order
        for j in range(k, min(len(idx), k + 24)):
            t = tokens[idx[j]]
            role = _ind_role(t)
            if role in ("target", "actual", "weight", "score", "deviation", "nature", "unit") and \
                    role not in [r for r, _ in roles]:
                roles.append((role, t))
    slots: list[int] = []
    cols: list[int] = []
    width = -1
    row_id = roles[0][1].row
    for r, t in roles:
        if r == "spacer":
            s = SPACER
        elif r == "other":
            s = OTHER
        else:
            s = _ROLE_SLOT.get(r, OTHER)
        if s == LEAD and slots:
            continue
        slots.append(s)
        cols.append(t.col if t.row == row_id else -1)
    if row_id >= 0:
        width = sum(1 for i in idx if tokens[i].row == row_id)
    # a target whose comparator and unit sit in columns of their own
    schema = Schema(slots, cols, width, points, True)
    return schema, k


_HEADER_ROLES = frozenset({"level1", "level2", "name", "target", "actual", "weight", "score", "nature", "unit",
                           "review_score", "standard", "deviation", "value", "target_adjusted", "score_rate"})


def segments(tokens: list[Token], idx: list[int]) -> list[tuple[list[int], Schema | None, int]]:
    """The indicator block cut where a second table's header begins (a form that prints its common
    rows and its project indicators as two tables): each part is read with its own header. A
    header is a run of column names that names a value column (指标值, 完成值, 分值, 得分)."""
    first, k = parse_header(tokens, idx)
    if not idx:
        return []
    roles = [_header_role(tokens[i]) for i in idx]
    if sum(1 for r in roles if r) < 8:
        return [(idx, first, k)]  # one header at most
    cuts = [0]
    headers = [(first, k)]
    p = max(k, 1) + 3  # some rows first
    while p < len(idx):
        if not roles[p]:
            p += 1
            continue
        window = roles[p:p + 8]
        if sum(1 for r in window[:5] if r) >= 4 and \
                {r for r in window if r} & {"level1", "level2", "name"} and \
                {r for r in window if r} & {"target", "actual"}:
            schema, k2 = parse_header(tokens, idx[p:])
            cuts.append(p)
            headers.append((schema, k2))
            p += max(k2, 3) + 3
            continue
        p += 1
    return [(idx[a:b], sch, kk) for (a, b), (sch, kk) in zip(zip(cuts, cuts[1:] + [len(idx)]), headers)]


def _header_role(tok: Token) -> str | None:
    """The column a header cell names (not a level label, not the 绩效指标 heading)."""
    role = _ind_role(tok)
    return role if role in _HEADER_ROLES and not level_of(tok.text) else None


# ---- emission ------------------------------------------------------------------------------------
def _features(tok: Token) -> tuple:
    return _features_of(tok.text, tok.kind, tok.label is not None and (
        tok.label.has("ind_col.") or "block.indicators" in tok.label.roles), tok.name_hint)


@lru_cache(maxsize=131072)
def _features_of(t: str, k, ind_col: bool, name_hint: bool = False) -> tuple:
    lv = level_of(t) if len(t) <= 20 else frozenset()
    bare = bool(lv) and not re.search(r"(?:指标|标指|指|标)(?:\(?\d+(?:\.\d+)?分?\)?)?$", fold(t))
    ind_label = ind_col and not lv
    n = k.number
    wplaus = round(plausible_weight(n), 1) if k.name == "number" and n is not None else None
    named = 2 if name_hint else bool(re.match(r"^(?:指标|目标)\s*\d+", fold(t)))
    part = k.name == "text" and 1 < len(t) <= 3 and is_label_part(t)
    return (k.name, lv, custom_level(t) if not lv and len(t) <= 12 else False, min(k.length, 30) // 6, wplaus,
            named, ind_label, fold(t) in ("无", "暂无") or fold(t).startswith("不涉及"), k.digits, bare, part)


@lru_cache(maxsize=65536)
def _emit_vector(slots: tuple[int, ...], feats: tuple) -> tuple[float, ...]:
    return tuple(_emit(s, feats) for s in slots)


@lru_cache(maxsize=65536)
def _emit(slot: int, feats: tuple) -> float:
    kind, lv, custom, lenb, wplaus, named, ind_label, nothing, digits, bare, part = feats
    empty = kind in ("empty", "dash")
    if ind_label:
        return 0.8 if slot in (LEAD,) else 4.0
    if empty:
        return {LEAD: 0.0, L1: 0.0, L2: 0.0, NAME: 2.2, NATURE: 0.3, TVAL: 0.7, UNIT: 0.3, TADJ: 0.1, ACTUAL: 0.7,
                WEIGHT: 0.6, SCORE: 0.4, REVIEW: 0.1, RATE: 0.3, DEV: 0.05, STD: 0.1, CORE: 0.2, SPACER: 0.0,
                OTHER: 0.1}[slot]
    if lv:
        strong = -0.3 if bare else -1.0
        if slot == L1:
            return strong if "L1" in lv else 2.5
        if slot == L2:
            return strong if "L2" in lv else 2.5
        if slot == LEAD:
            return 1.5
        if slot == NAME:
            return 0.6 if bare else 2.8
        return 4.5
    if custom:
        return {L2: 0.2, NAME: 0.6, L1: 1.8}.get(slot, 3.5)
    if named:  # 指标1：… is the name cell of a row
        v = 1.2 if named is True else 3.0  # a name a reader cut out is surely no value
        return {NAME: -0.6, TVAL: v, ACTUAL: v, DEV: 1.5, STD: 1.5, OTHER: 1.5}.get(slot, 4.0)
    if kind == "text":
        long = lenb >= 2
        if slot == NAME:
            return 1.5 if part else (0.0 if not nothing else 1.2)
        if slot in (TVAL, ACTUAL):
            return (0.65 if not long else 1.0) - (0.3 if digits else 0.0)
        if slot == TADJ:
            return 1.2
        if slot == DEV:
            return -0.2 if long else (0.0 if nothing else 0.5)
        if slot == STD:
            return -0.1 if long else 0.6
        if slot == OTHER:
            return 1.0
        if slot == LEAD:
            return 2.0
        if slot in (L1, L2):
            return 3.5
        if slot == CORE:
            return 3.0
        return 5.0
    if kind == "qual":
        return {TVAL: 0.1, ACTUAL: 0.05, TADJ: 0.3, NAME: 1.6, DEV: 0.4 if nothing else 1.2, CORE: 0.3, STD: 1.0,
                OTHER: 1.0, NATURE: 2.5}.get(slot, 5.0)
    if kind == "number":
        if slot == WEIGHT:
            return 0.1 + (-(wplaus or 0.0)) * 0.6
        if slot == SCORE:
            return 0.2
        if slot in (TVAL, ACTUAL):
            return 0.45
        if slot == REVIEW:
            return 0.5
        if slot == TADJ:
            return 0.8
        if slot == RATE:
            return 0.8
        if slot == NAME:
            return 3.2
        if slot == DEV:
            return 2.6
        if slot == OTHER:
            return 1.5
        return 5.0
    if kind in ("percent", "amount", "cmp", "date"):
        if slot in (TVAL, ACTUAL):
            return 0.0
        if slot == TADJ:
            return 0.7  # an adjusted target is rarely printed: a figure here is more likely the actual
        if slot == RATE:
            return 0.3 if kind == "percent" else 3.0
        if slot == NAME:
            return 2.2 if kind != "date" else 1.4
        if slot == DEV:
            return 2.0
        if slot == STD:
            return 2.0
        if slot == OTHER:
            return 1.5
        return 5.0
    if kind == "nature":
        return {NATURE: -0.6, TVAL: 1.2, OTHER: 2.0}.get(slot, 4.5)
    if kind == "unit":
        return {UNIT: -0.6, TVAL: 2.0, ACTUAL: 2.0, NAME: 3.0, OTHER: 2.0}.get(slot, 4.5)
    return 3.0


# ---- transitions ---------------------------------------------------------------------------------
@dataclass
class Style:
    """How the stream marks cells and rows in this block."""

    grid: bool  # rows known (PDF/Word/Excel/OCR tables)
    lines_are_rows: bool  # most lines hold several cells (tab, pipe, space-aligned dumps)
    explicit_empties: bool  # empty cells are printed (tabs, pipes, grids)
    blank_split: int  # cell-per-line dumps: blank runs at least this long end a row (0: no such signal)
    blank_rows: bool = False  # a Word dump: one cell a line (empty cells printed), a blank line between rows
    cell_lines: bool = False  # one cell a line: a space inside a line is inside a cell


def block_style(tokens: list[Token]) -> Style:
    grid = sum(1 for t in tokens if t.row >= 0) > len(tokens) // 2
    lines = sum(1 for t in tokens if t.sep in (Sep.LINE, Sep.BLANK, Sep.ROW, Sep.PAGE))
    inner = sum(1 for t in tokens if t.sep == Sep.CELL)
    spaces = sum(1 for t in tokens if t.sep in (Sep.SPACE, Sep.SPACES))
    per_line = (inner + spaces + lines) / max(1, lines)
    # lines hold a row each when they hold a few cells; one line holding the whole table is no evidence
    lines_are_rows = grid or (lines > 1 and (inner + spaces) >= 1.5 * lines and per_line <= 30)
    explicit = grid or any(t.empty and t.sep == Sep.CELL for t in tokens)
    blank_split = 0
    blank_rows = (not lines_are_rows and any(t.empty and t.sep == Sep.LINE for t in tokens)
                  and sum(1 for t in tokens if t.sep == Sep.BLANK) >= 2)
    if not lines_are_rows and not blank_rows:
        runs = [t.blank for t in tokens if t.sep == Sep.BLANK]
        if runs and max(runs) >= 2 and min(runs) < max(runs):
            hi, lo = max(runs), min(runs)
            blank_split = (hi + lo + 1) // 2 if hi - lo >= 2 else hi
    explicit = explicit or blank_rows
    cell_lines = not grid and not lines_are_rows and lines >= 6 and spaces * 3 <= lines and inner == 0
    return Style(grid, lines_are_rows, explicit, blank_split, blank_rows, cell_lines)


def _row_costs(style: Style, tok: Token) -> tuple[float, float, float]:
    """(stay in the row, start a new row, stay in the same cell) for the boundary before ``tok``."""
    sep = tok.sep
    if tok.name_hint and sep == Sep.NONE:
        return 0.0, 0.0, 9.0  # a name cut out of a glued run begins a cell of its own
    if style.grid and tok.row >= 0:
        if sep in (Sep.ROW, Sep.PAGE):
            return 9.0, 0.0, 9.0
        if sep == Sep.LINE:
            return 3.0, 0.5, 4.0
        return 0.0, 7.0, 5.0
    if sep == Sep.PAGE:
        return 0.8, 0.0, 1.2
    if style.blank_rows:
        if sep == Sep.BLANK:
            return 4.0, 0.0, 4.0
        if sep == Sep.LINE:
            return 0.0, 2.5, 2.0
        return 0.0, 1.0, 0.5
    if style.lines_are_rows:
        if sep in (Sep.LINE, Sep.BLANK, Sep.ROW):
            return 1.8, 0.0, 1.2
        if sep == Sep.CELL:
            return 0.0, 4.0, 4.0
        if sep == Sep.SPACES:
            return 0.0, 2.5, 1.5
        if sep == Sep.SPACE:
            return 0.0, 2.0, 0.3
        return 0.0, 0.6, 0.4
    if sep == Sep.SPACE and style.cell_lines:
        return 1.0, 1.4, 0.1  # ``指标1：线上核验任务 300项`` on a line of its own is one cell
    if sep == Sep.BLANK and style.blank_split:
        if tok.blank >= style.blank_split:
            return 3.0, 0.0, 4.0
        return 0.0, 1.2, 2.5
    if sep in (Sep.LINE, Sep.BLANK):
        return 0.0, 0.35, 1.0
    if sep == Sep.CELL:
        return 0.0, 0.8, 3.0
    if sep == Sep.SPACE:
        return 0.0, 0.4, 0.9
    if sep == Sep.SPACES:
        return 0.0, 0.4, 1.2
    return 0.0, 0.35, 0.5


def _skip_costs(schema: Schema, style: Style) -> tuple[list[float], list[float]]:
    """(mid-row, end-of-row) cost of leaving each column empty without printing it."""
    mid, end = [], []
    for s in schema.slots:
        if s in (LEAD, L1, L2):
            # merged level cells print once; dumps that print empty cells print them as empties
            m = 1.2 if style.blank_rows else (0.5 if style.explicit_empties else 0.05)
            e = 0.05
        elif s == TADJ:
            m, e = 0.05, 0.02
        elif s in (REVIEW, SPACER, STD, CORE, RATE, OTHER):
            m, e = 0.3, 0.05
        elif s == NAME:
            # a row may be only its group's labels (an empty 经济效益 group in flattened text)
            m, e = 2.5, (2.5 if style.explicit_empties else 0.8)
        elif s == DEV:
            m, e = 0.4, 0.02
        elif s in (NATURE, UNIT):
            m, e = (0.7 if style.explicit_empties else 0.3), 0.2
        else:
            m, e = (1.6 if style.explicit_empties else 0.6), (0.35 if style.explicit_empties else 0.25)
            if s in (TVAL, ACTUAL) and not style.explicit_empties:
                e = 0.45  # a row with a name and no figures at all is rare
            if style.blank_rows:
                e = 0.6  # a Word dump prints every cell of a row, empty ones too
        mid.append(m)
        end.append(e)
    return mid, end


# ---- the fit ----------------------------------------------------------------------------------------
@dataclass
class Placed:
    """A cell placed by the fit: the token, its column (slot position), the text it contributes."""

    tok: Token
    pos: int
    text: str
    new_row: bool = False
    joined: bool = False  # continues the previous cell of the same column
    ignored: bool = False


@dataclass
class Fit:
    """The fit of a block's cells to a schema."""

    schema: Schema
    placed: list[Placed] = field(default_factory=list)
    cost: float = 0.0
    ignored: int = 0


def _run_pieces(tok: Token, schema: Schema, j: int, k: int) -> tuple[float, list[str]] | None:
    """The best cut of a glued digit run over columns j..j+k-1, with its cost."""
    kinds = schema.slots[j:j + k]
    if len(kinds) < k or any(s not in NUMERIC for s in kinds):
        return None
    best: tuple[float, list[str]] | None = None
    for pieces in splits(tok.text, k):
        nums = [float(p) for p in pieces]
        c = 0.1 * (k - 1)
        w = s = None
        tv = av = None
        for kind, x in zip(kinds, nums):
            if kind == WEIGHT:
                c -= plausible_weight(x) * 0.8
                w = x
            elif kind == SCORE:
                c -= plausible_weight(x) * 0.4
                s = x
            elif kind == TVAL:
                tv = x
            elif kind == ACTUAL:
                av = x
            elif kind == REVIEW:
                c -= plausible_weight(x) * 0.3
        if w is not None and s is not None:
            c += 3.0 if s > w + 1e-9 else (-0.6 if s == w else 0.0)
        if tv is not None and av is not None and tv > 0 and av > 0:
            ratio = av / tv
            c += -0.3 if 0.5 <= ratio <= 2.0 else (0.4 if ratio < 0.2 or ratio > 5 else 0.0)
        if s is not None and s > 100:
            c += 3.0
        if best is None or c < best[0]:
            best = (c, list(pieces))
    return best


def _direct(tokens: list[Token], schema: Schema, style: Style) -> Fit | None:
    """A block whose own row marks cut it into rows of one cell per column (a row may stop early,
    the dump dropping its last empty cells), each cell fitting its column well: the fit is the
    grid as printed, no search needed. Anything else goes to the full fit."""
    S = len(schema.slots)
    if not style.explicit_empties or not (style.blank_rows or style.grid):
        return None
    strong = Sep.BLANK if style.blank_rows else Sep.ROW
    rows: list[list[Token]] = []
    for t in tokens:
        if not rows or t.sep >= strong:
            rows.append([])
        rows[-1].append(t)
    slots_key = tuple(schema.slots)
    name_i = schema.name_index
    out = Fit(schema)
    for n, row in enumerate(rows):
        # the first row may have lost its empty leading cell to the header's line
        for off in ((0, 1) if n == 0 else (0,)):
            if not (name_i + 1 <= len(row) + off <= S):
                continue
            if all(not t.glued and _emit_vector(slots_key, _features(t))[j + off] <= 1.0 for j, t in enumerate(row)):
                out.placed.extend(Placed(t, j + off, t.text, new_row=j == 0) for j, t in enumerate(row))
                break
        else:
            return None
    return out


def fit(tokens: list[Token], schema: Schema, style: Style) -> Fit:
    """Place every token of the block in a column (Viterbi over the stream)."""
    S = len(schema.slots)
    n = len(tokens)
    out = Fit(schema)
    if n == 0:
        return out
    quick = _direct(tokens, schema, style)
    if quick is not None:
        return quick
    mid, end = _skip_costs(schema, style)
    prefix = [0.0]
    for m in mid:
        prefix.append(prefix[-1] + m)
    # cost of leaving slots j.. empty at a row's end
    suffix_end = [0.0] * (S + 1)
    for j in range(S - 1, -1, -1):
        suffix_end[j] = suffix_end[j + 1] + end[j]
    name_i = schema.name_index
    width_ok = {}
    if schema.width > 0:
        counts: dict[int, int] = {}
        for t in tokens:
            if t.row >= 0:
                counts[t.row] = counts.get(t.row, 0) + 1
        width_ok = {r: c == schema.width for r, c in counts.items()}
    slots = schema.slots
    # score[j]: best cost with the current token placed in slot j
    score = [INF] * S
    back: list[list[tuple[int, int, int]]] = []  # per token, per slot: (prev slot, move, pieces)
    # emission costs, one vector per token (cached by what the token is)
    slots_key = tuple(slots)
    evec: list[tuple[float, ...]] = []
    for t in tokens:
        v = _emit_vector(slots_key, _features(t))
        if t.col >= 0 and width_ok.get(t.row):
            v = tuple(e + ((-1.2 if t.col == schema.cols[j] else 1.0) if schema.cols[j] >= 0 else 0.0)
                      for j, e in enumerate(v))
        evec.append(v)

    def emission(ti: int, j: int) -> float:
        return evec[ti][j]

    t0 = tokens[0]
    b0 = []
    for j in range(S):
        if j <= name_i:
            score[j] = prefix[j] - prefix[0] + emission(0, j)
        b0.append((-1, 2, 1))
    ign0 = _ignore_cost(t0)
    back.append(b0)
    ignored_best = None
    if ign0 < INF:
        ignored_best = ign0
    del ignored_best
    joinable = [sl in JOINABLE for sl in slots]
    row_costs = [_row_costs(style, t) for t in tokens]
    ignores = []
    for t in tokens:
        ign = _ignore_cost(t)
        if not style.grid and _features(t)[1]:
            ign = min(ign, 1.6 if style.lines_are_rows or style.blank_rows else 0.8)
        ignores.append(ign)
    name_ok = [j <= name_i for j in range(S)]
    for ti in range(1, n):
        tok = tokens[ti]
        same, new, stay = row_costs[ti]
        ev = evec[ti]
        prev_tok = tokens[ti - 1]
        # joining this cell to the one before it (a cell a space or a line break cut in two)
        tok_stays = tok.text != prev_tok.text and (prev_tok.kind.name == "text" or tok.kind.name != "text")
        stay_text = tok_stays and tok.kind.name == "text"
        stay_fig = tok_stays and tok.sep == Sep.SPACE and tok.kind.figure
        nb: list[tuple[int, int, int]] = [(-1, 0, 1)] * S
        ns = [INF] * S
        # end the row after slot i: the rest of the row's columns are empty
        best_end, best_end_i = INF, -1
        for i in range(S):
            v = score[i] + suffix_end[i + 1]
            if v < best_end:
                best_end, best_end_i = v, i
        # in-row moves i -> j (i < j), skipping i+1..j-1: running minimum of score[i] - prefix[i+1]
        run_best, run_i = INF, -1
        for j in range(S):
            if j > 0:
                v = score[j - 1] - prefix[j]
                if v < run_best:
                    run_best, run_i = v, j - 1
            e = ev[j]
            if run_i >= 0:
                c = run_best + prefix[j] + same + e
                if c < ns[j]:
                    ns[j], nb[j] = c, (run_i, 0, 1)
            if joinable[j] and (stay_text or stay_fig and slots[j] == NAME) and score[j] < INF:
                c = score[j] + stay + e * 0.5 + 0.3
                if c < ns[j]:
                    ns[j], nb[j] = c, (j, 1, 1)
            if name_ok[j] and best_end_i >= 0:
                c = best_end + new + prefix[j] + e
                if c < ns[j]:
                    ns[j], nb[j] = c, (best_end_i, 2, 1)
        # a level label printed out of place (scrambled dumps), or a repeated header: no column
        ign = ignores[ti]
        if ign < INF:
            for j in range(S):
                c = score[j] + ign
                if c < ns[j]:
                    ns[j], nb[j] = c, (j, 3, 1)
        # a glued digit run over several columns
        if tok.glued and is_run(tok.text):
            for k in (2, 3, 4):
                for j in range(S - k + 1):
                    got = _run_pieces(tok, schema, j, k)
                    if got is None:
                        continue
                    cost, _pieces = got
                    last = j + k - 1
                    if run_i >= 0 or j > 0:
                        # in-row into j
                        rb, ri = INF, -1
                        for i in range(j):
                            v = score[i] + prefix[j] - prefix[i + 1]
                            if v < rb:
                                rb, ri = v, i
                        if ri >= 0:
                            c = rb + same + cost
                            if c < ns[last]:
                                ns[last], nb[last] = c, (ri, 4, k)
                    if j <= name_i and best_end_i >= 0:
                        c = best_end + new + prefix[j] + cost
                        if c < ns[last]:
                            ns[last], nb[last] = c, (best_end_i, 5, k)
        score = ns
        back.append(nb)
    # finish: the last row's remaining columns are empty
    final = [score[j] + suffix_end[j + 1] for j in range(S)]
    j = min(range(S), key=lambda x: final[x])
    out.cost = final[j]
    path: list[Placed] = []
    for ti in range(n - 1, -1, -1):
        prev, move, k = back[ti][j]
        tok = tokens[ti]
        if move == 3:
            path.append(Placed(tok, j, tok.text, ignored=True))
            out.ignored += 1
        elif move in (4, 5):
            got = _run_pieces(tok, schema, j - k + 1, k)
            assert got is not None
            for m, piece in reversed(list(enumerate(got[1]))):
                path.append(Placed(tok, j - k + 1 + m, piece, new_row=(move == 5 and m == 0)))
        else:
            path.append(Placed(tok, j, tok.text, new_row=(move == 2 or ti == 0), joined=(move == 1)))
        if ti > 0:
            j = prev
    path.reverse()
    out.placed = path
    return out


def _ignore_cost(tok: Token) -> float:
    lab = tok.label
    if lab is not None and (lab.has("ind_col.") or "block.indicators" in lab.roles) and not level_of(tok.text):
        return 0.2
    if tok.kind.name == "text" and 1 < len(tok.text) <= 3 and is_label_part(tok.text):
        return 0.4  # a piece of a header label the dump broke off (实际 of 实际完成值)
    if tok.kind.name in ("empty",):
        return 1.0
    return INF


# ---- rows ------------------------------------------------------------------------------------------
@dataclass
class RowRead:
    """One indicator row as placed: column -> (text, tokens)."""

    cells: dict[str, tuple[str, list[Token]]] = field(default_factory=dict)
    levels: list[tuple[str, Token]] = field(default_factory=list)  # (L1/L2, token) printed on this row
    tokens: list[Token] = field(default_factory=list)


def rows_of(f: Fit) -> list[RowRead]:
    """Group the placed cells into rows."""
    rows: list[RowRead] = []
    cur: RowRead | None = None
    last_pos = -1
    for p in f.placed:
        if p.new_row or cur is None:
            cur = RowRead()
            rows.append(cur)
            last_pos = -1
        if p.ignored:
            lv = level_of(p.tok.text)
            if lv:
                cur.levels.append(("L1" if "L1" in lv and ("L2" not in lv or not any(x == "L1" for x, _ in cur.levels))
                                   else "L2", p.tok))
            continue
        slot = f.schema.slots[p.pos]
        name = SLOT_NAMES[slot]
        cur.tokens.append(p.tok)
        if slot in (L1, L2, LEAD):
            if p.text.strip() and (level_of(p.text) or custom_level(p.text) or slot != LEAD):
                cur.levels.append(("L1" if slot == L1 else "L2" if slot == L2 else "LEAD", p.tok))
            last_pos = p.pos
            continue
        if not p.text.strip() and kind_of(p.text).name == "empty":
            last_pos = p.pos
            continue
        if name in cur.cells and (p.joined or p.pos == last_pos):
            text, toks = cur.cells[name]
            sep = "" if not text or not p.text else ("" if not (text[-1].isascii() and p.text[0].isascii()) else " ")
            cur.cells[name] = (text + sep + p.text, toks + [p.tok])
        elif name not in cur.cells:
            cur.cells[name] = (p.text, [p.tok])
        last_pos = p.pos
    return rows


def _soft_breaks(tokens: list[Token], schema: Schema, style: Style) -> list[Token]:
    """In a Word dump every row begins with its level cells (empty when merged); a blank line
    followed by anything else is an empty paragraph inside a cell, not a new row."""
    if not style.blank_rows or schema.slots[0] not in (LEAD, L1):
        return tokens
    out = []
    for t in tokens:
        if t.sep == Sep.BLANK and not t.empty and not level_of(t.text) and not custom_level(t.text) and not (
                t.label is not None and (t.label.has("ind_col.") or "block.indicators" in t.label.roles)):
            t = Token(t.text, t.page, t.start, t.end, Sep.LINE, 0, t.bbox, t.conf, t.row, t.col, t.glued, t.label,
                      t.kind)
        out.append(t)
    return out


def choose_schema(tokens: list[Token], schema: Schema | None, style: Style) -> Fit:
    """Fit with the header's schema; with no header, with the layout that fits the cells best."""
    if schema is not None:
        s = _with_implicit(_with_first_level(schema, tokens))
        return fit(_soft_breaks(tokens, s, style), s, style)
    best: Fit | None = None
    for slots in (DEFAULT, SICHUAN):
        f = fit(tokens, Schema(list(slots), [-1] * len(slots)), style)
        if best is None or f.cost < best.cost:
            best = f
    assert best is not None
    return best


def _with_first_level(schema: Schema, tokens: list[Token]) -> Schema:
    """A header whose 一级指标 cell did not survive (a garbled vertical heading) still has that
    column when the rows print first-level labels."""
    if L1 in schema.slots or LEAD in schema.slots or L2 not in schema.slots:
        return schema
    if not any(level_of(t.text) == frozenset({"L1"}) for t in tokens if len(t.text) <= 12):
        return schema
    at = schema.slots.index(L2)
    return Schema(schema.slots[:at] + [L1] + schema.slots[at:], schema.cols[:at] + [-1] + schema.cols[at:],
                  schema.width, schema.points, schema.from_header)


def _with_implicit(schema: Schema) -> Schema:
    """A header that names no 得分 column still has scores printed after the last value: keep a
    place for them (and for a 分值 before them when neither is named). A header whose 完成值
    column name did not read (OCR) has it as the unnamed column after the target."""
    slots, cols = list(schema.slots), list(schema.cols)
    if ACTUAL not in slots and TVAL in slots:
        after = [i for i, s in enumerate(slots) if s == OTHER and i > slots.index(TVAL)]
        if after:
            slots[after[0]] = ACTUAL
    if SCORE not in slots and WEIGHT not in slots:
        pos = max((i for i, s in enumerate(slots) if s in (ACTUAL, TVAL, TADJ, RATE)), default=len(slots) - 1) + 1
        slots.insert(pos, SCORE)
        cols.insert(pos, -1)
    return Schema(slots, cols, schema.width, schema.points, schema.from_header)

