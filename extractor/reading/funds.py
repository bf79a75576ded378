"""The 项目资金 table: columns named by its header, rows by their labels, values fitted to both.

The values of a row are fitted to the header's columns in print order, allowing a cell the dump
dropped: each reading is scored by what the cells hold (an amount, a share, a small 分值) and by
the table's own arithmetic (执行率 = 全年执行数 ÷ 全年预算数, 得分 = 执行率 × 分值, capped). A run of
glued digits (``12121210``) is cut the way that arithmetic allows. A table printed as label/value
pairs (``预算数 20 执行数 19``) is read pair by pair.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from extractor.core.lazy_regex import lazy_compile
from extractor.core.vocabulary import fold
from extractor.reading.digits import is_run, plausible_weight, splits
from extractor.reading.stream import Sep, Token
from extractor.reading.values import parse_number, rate_number

ROWS = ("total", "fiscal", "carryover", "other")
_JUNK = lazy_compile(r"^[()（）:：,，、=\-/]*(?:万元|元|等|包括|含)?[()（）:：,，、=\-/]*$")
_UNIT_NOTE = lazy_compile(r"^\((?:单位:)?(万元|元|千元|亿元)\)$")
AMOUNT_COLS = ("initial", "full_year", "executed")


@dataclass
class Cellv:
    """A value placed in a column: its text and the token it came from (a part of it, when cut)."""

    text: str
    token: Token


@dataclass
class FundsRead:
    """What the funds reader found."""

    rows: dict[str, dict[str, Cellv]] = field(default_factory=dict)  # row -> column -> value
    extra: list[tuple[str, dict[str, Cellv]]] = field(default_factory=list)  # other rows, by label
    unit: str | None = None
    points: float | None = None  # the block heading's points note: 预算执行情况(20分)
    leftovers: int = 0  # values no column took


def _col_role(tok: Token) -> str | None:
    lab = tok.label
    if lab is None:
        return None
    return lab.role("fund_col.")


def _row_role(tok: Token) -> str | None:
    lab = tok.label
    if lab is None:
        return None
    return lab.role("fund_row.")


def _value_kind(t: Token) -> str:
    k = t.kind.name
    if k in ("empty", "dash"):
        return "null"
    return k


def _fit_cost(col: str, text: str, kind: str) -> float:
    """How badly ``text`` fits column ``col`` (0 = well)."""
    if kind == "null":
        return 0.0
    if col in AMOUNT_COLS:
        if kind == "number":
            return 0.0
        if kind == "amount":
            return 0.1
        if kind == "percent":
            return 3.0
        if re.fullmatch(r"[\d.,，。]+", text.strip()):
            # a garbled figure (145.40556.6) kept as printed; one with several points is more
            # likely several figures run together
            return 0.6 if text.count(".") >= 2 else 0.3
        return 1.6
    if col == "weight":
        n = parse_number(text)
        if kind == "number" and n is not None:
            return -plausible_weight(n) * 0.5
        return 3.0
    if col == "rate":
        if kind == "percent":
            return -0.3
        if kind == "number":
            return 0.4
        return 3.0
    if col == "score":
        return 0.0 if kind == "number" else 3.0
    if col == "row_no":  # 行次: the row's number
        return -0.3 if kind == "number" and re.fullmatch(r"\d{1,2}", text.strip()) else 3.0
    return 0.3


def _pieces(tok: Token, max_cols: int) -> list[list[str]]:
    """The ways a value token can be read: itself, or a glued run cut into 2..max_cols figures."""
    out = [[tok.text]]
    if tok.glued and is_run(tok.text):
        for k in range(2, max_cols + 1):
            out.extend(list(s) for s in splits(tok.text, k))
    return out


def _arith_bonus(assign: dict[str, str], row: str) -> float:
    def num(col: str) -> float | None:
        return parse_number(assign.get(col))

    bonus = 0.0
    fy, ex, ini = num("full_year"), num("executed"), num("initial")
    rate = rate_number(assign.get("rate")) if assign.get("rate") else None
    if fy and ex is not None and rate is not None:
        pct = ex / fy * 100
        if abs(pct - rate) <= 0.6 or (rate <= 1.5 and abs(ex / fy - rate) <= 0.006):
            bonus += 2.5
        else:
            bonus -= 0.8
    if fy and ex is not None and ex > fy * 1.5:
        bonus -= 1.0
    if ini and fy and (fy > ini * 20 or ini > fy * 20):
        bonus -= 1.0
    w, s = num("weight"), num("score")
    if w is not None and s is not None:
        if s > w + 1e-9:
            bonus -= 3.0
        elif rate is not None:
            r = rate if rate > 1.5 else rate * 100
            if abs(min(r, 100.0) / 100 * w - s) <= 0.06 * max(1.0, w):
                bonus += 1.5
    if row != "total" and w is not None:
        bonus -= 0.5
    return bonus


def _identity(values: list[Token], cols: list[tuple[str, int]]) -> dict[str, Cellv] | None:
    """A row that prints one cell per column, each fitting its column: no search needed."""
    vals = values
    if len(vals) != len(cols):
        vals = [v for v in values if not v.empty]
        if len(vals) != len(cols) or len(vals) != len(values):
            return None
    out: dict[str, Cellv] = {}
    for (col, _pos), tok in zip(cols, vals):
        if tok.glued and is_run(tok.text):
            return None
        if _fit_cost(col, tok.text, _value_kind(tok)) > 0.5:
            return None
        if tok.text.strip():
            out[col] = Cellv(tok.text, tok)
    return out


def fit_row(values: list[Token], cols: list[tuple[str, int]], row: str, explicit_empties: bool
            ) -> tuple[dict[str, Cellv], int, float]:
    """Place a row's values in the header's columns; (column -> value, values left over, score)."""
    n_cols = len(cols)
    quick = _identity(values, cols)
    if quick is not None:
        return quick, 0, 0.0
    skip_cost = 1.0 if explicit_empties else 0.45
    best: tuple[float, dict[str, Cellv], int] = (-1e9, {}, len(values))
    leaves = 0

    def rec(vi: int, ci: int, acc: list[tuple[str, str, Token]], cost: float) -> None:
        nonlocal best, leaves
        if leaves > 1500:
            return
        if vi == len(values):
            leaves += 1
            assign = {c: t for c, t, _ in acc}
            score = -cost + _arith_bonus(assign, row)
            if score > best[0]:
                best = (score, {c: Cellv(t, tok) for c, t, tok in acc}, 0)
            return
        if ci >= n_cols:
            leaves += 1
            left = sum(1 for v in values[vi:] if not v.empty)
            # figures left over are lost values; words left over are mostly notes or a garbled heading
            lost = sum(0.6 if v.kind.name == "text" else 1.5 for v in values[vi:] if not v.empty)
            assign = {c: t for c, t, _ in acc}
            score = -cost - lost + _arith_bonus(assign, row)
            if score > best[0]:
                best = (score, {c: Cellv(t, tok) for c, t, tok in acc}, left)
            return
        tok = values[vi]
        # this value in column ci (or cut over ci..ci+k-1)
        for pieces in _pieces(tok, n_cols - ci):
            k = len(pieces)
            if ci + k > n_cols:
                continue
            c = 0.0
            placed = []
            for j, text in enumerate(pieces):
                col, col_pos = cols[ci + j]
                kind = _value_kind(tok) if k == 1 else "number"
                c += _fit_cost(col, text, kind)
                if k > 1 and col in AMOUNT_COLS and tok.text.startswith(".") and not text.startswith("."):
                    c += 0.3  # a run whose amounts all lost their digits before the point: keep them alike
                if k == 1 and tok.col >= 0 and col_pos >= 0:
                    if tok.row >= 0:
                        c += -0.8 if tok.col == col_pos else 0.6  # a true grid
                    else:
                        c += -0.2 if tok.col == col_pos else 0.15  # a text line's cell count may drift
                placed.append((col, text, tok))
            if k > 1:
                c += 0.15 * (k - 1)
            rec(vi + 1, ci + k, acc + placed, cost + c)
        # an empty cell that belongs to no column (the row label's merged span)
        if tok.empty:
            rec(vi + 1, ci, acc, cost + (0.05 if tok.col >= 0 and cols[ci][1] >= 0 and tok.col < cols[ci][1] else 0.5))
        elif tok.kind.name in ("unit", "nature") or _JUNK.match(fold(tok.text)):
            rec(vi + 1, ci, acc, cost + 0.2)  # a unit or a bracket the dump cut off its figure
        elif tok.kind.name == "text":
            rec(vi + 1, ci, acc, cost + 1.2)
        # column ci was dropped by the dump
        if not explicit_empties or tok.col < 0 or cols[ci][1] < 0 or tok.col > cols[ci][1]:
            rec(vi, ci + 1, acc, cost + skip_cost)

    rec(0, 0, [], 0.0)
    placed = {c: v for c, v in best[1].items() if v.text.strip()}
    return placed, best[2], best[0]


def _pair_layout(tokens: list[Token], idx: list[int]) -> bool:
    """Whether the block prints each column's label right before its value (预算数 20 执行数 19)."""
    pairs = 0
    for a, b in zip(idx, idx[1:]):
        ta, tb = tokens[a], tokens[b]
        if _row_role(ta):
            return pairs >= 2  # the pairs of the total come first; the sub-rows may print as rows
        if _col_role(ta) and tb.label is None and not tb.empty and tb.kind.name != "text":
            pairs += 1
    return pairs >= 2


_SMALL_INT = lazy_compile(r"\s*\d{1,2}\s*")


def _without_numbering(tokens: list[Token], idx: list[int]) -> list[int]:
    """Drop a 列次 row (``0 1 2 3 4 5 6 7``): column numbers are no amounts."""
    nums = [int(tokens[i].text) if tokens[i].kind.name == "number" and _SMALL_INT.fullmatch(tokens[i].text)
            else None for i in idx]
    if sum(1 for n in nums if n is not None) < 4:
        return idx
    drop: set[int] = set()
    k = 0
    while k < len(idx):
        j = k
        while j + 1 < len(idx) and nums[j] is not None and nums[j + 1] == nums[j] + 1:
            j += 1
        if j - k >= 3:
            drop.update(idx[k:j + 1])
            k = j + 1
        else:
            k += 1
    return [i for i in idx if i not in drop] if drop else idx


def read_funds(tokens: list[Token], idx: list[int]) -> FundsRead:
    """Read the funds block (token indices ``idx``)."""
    out = FundsRead()
    idx = _without_numbering(tokens, idx)
    cols: list[tuple[str, int]] = []
    explicit = any(tokens[i].sep in (Sep.CELL, Sep.ROW) and tokens[i].empty for i in idx)
    current: tuple[str, str] | None = None  # (row role, printed label)
    rows: list[tuple[str, str, list[Token]]] = []
    pair_values: dict[str, Token] = {}
    pair_mode = _pair_layout(tokens, idx)
    loose: list[Token] = []  # values after the last label/value pair
    k = 0
    while k < len(idx):
        t = tokens[idx[k]]
        lab = t.label
        if lab is not None and "block.funds" in lab.roles and cols and not rows and "%" in t.text:
            cols.append(("rate", t.col))  # 预算执行(E/C×100%): a heading word used as the rate's column
            k += 1
            continue
        if lab is not None and "block.funds" in lab.roles:
            out.unit = out.unit or lab.unit
            if lab.points is not None:
                out.points = out.points or lab.points
            k += 1
            continue
        col = _col_role(t)
        row = _row_role(t)
        if lab is not None and lab.unit and (col or row):
            out.unit = out.unit or lab.unit
        if row and not (col and current is None and cols):
            current = (row, t.text)
            rows.append((row, t.text, []))
            k += 1
            continue
        if col:
            nxt = tokens[idx[k + 1]] if k + 1 < len(idx) else None
            after = tokens[idx[k + 2]] if k + 2 < len(idx) else None
            pair = (nxt is not None and nxt.label is None and not nxt.empty and nxt.kind.name != "text"
                    and (after is None or after.label is not None or pair_mode))
            if pair and (not rows or not rows[-1][2]) and nxt is not None:
                pair_values.setdefault(col, nxt)
                if col not in [c for c, _ in cols]:
                    cols.append((col, t.col))
                k += 2
                continue
            if rows and rows[-1][2]:
                current = None  # a second header: its values start a new reading
            cols.append((col, t.col))
            k += 1
            continue
        if lab is not None and lab.has("field."):
            k += 1
            continue
        note = _UNIT_NOTE.match(fold(t.text)) if t.label is None else None
        if note:
            out.unit = out.unit or note.group(1)  # (万元) printed apart
            k += 1
            continue
        if (cols and not rows and not pair_values and t.label is None and t.kind.name == "text"
                and not t.kind.digits and t.sep <= Sep.CELL):
            cols.append(("unknown", t.col))  # a column the vocabulary does not name (资金来源说明)
        elif rows:
            rows[-1][2].append(t)
        elif pair_values and t.label is None:
            loose.append(t)
        elif cols and not t.empty and t.label is None:
            rows.append(("total", "", [t]))  # values under the header before any row label
        k += 1
    headless = not cols
    lone_budget = False
    if not cols:
        cols = [("initial", -1), ("full_year", -1), ("executed", -1), ("weight", -1), ("rate", -1), ("score", -1)]
    # 执行率 | 执行率权重 | 执行率得分 cut apart in glued text: the 执行率 before 权重/得分 is no column
    cols = [c for i, c in enumerate(cols) if not (
        c[0] == "rate" and i + 1 < len(cols) and cols[i + 1][0] in ("weight", "score")
        and any(p[0] == "rate" for p in cols[:i]))]
    if pair_values:
        out.rows["total"] = {c: Cellv(v.text, v) for c, v in pair_values.items()}
        # values after the pairs under no label of their own: a share is the rate, a figure the score
        rest = [c for c in cols if c[0] not in pair_values] or (
            [("rate", -1), ("score", -1)] if any(v.kind.name == "percent" for v in loose) else [("score", -1)])
        if loose and rest:
            placed, left, _ = fit_row([v for v in loose if not v.empty], rest, "total", False)
            out.rows["total"].update(placed)
            out.leftovers += left
    seen_label: dict[str, str] = {}
    for n, (row, label, values) in enumerate(rows):
        while values and values[-1].empty:
            values.pop()
        if not values:
            continue
        vals = values
        row_cols = [c for c in cols if (row == "total" or c[0] != "unknown")
                    and not (row == "total" and c[0] in pair_values)] or cols
        nxt_empty = n + 1 < len(rows) and not rows[n + 1][2]
        if nxt_empty and sum(1 for v in vals if not v.empty) > len(row_cols):
            cut = _overflow_cut(vals, len(row_cols))
            rows[n + 1][2].extend(vals[cut:])
            vals = vals[:cut]
        filled = [v for v in vals if not v.empty]
        lone = headless and len(filled) == 1 and _fit_cost("full_year", filled[0].text, _value_kind(filled[0])) <= 0.3
        if lone and not lone_budget and "预算" in label and "年初" not in label:
            lone_budget = True
        if lone and lone_budget:
            # a lone figure under no column header, in a table whose total row its label calls a
            # budget, is the (full-year) budget: 年度预算资金总额: 763.00, 其中:中央补助 668.00
            placed, left = {"full_year": Cellv(filled[0].text, filled[0])}, 0
        else:
            placed, left, _score = fit_row(vals, row_cols, row, explicit)
        out.leftovers += left
        if row == "extra":
            out.extra.append((label, placed))
            continue
        if (pair_values and row in out.rows and row != "total" and len(placed) == 1 and len(out.rows[row]) == 1
                and label == seen_label.get(row)):
            # label/value pairs printed once per column (其中:中央补助 2.38 | 其中:中央补助 2.38): the
            # repeat is the row's next column
            order = [c for c, _ in cols if c in AMOUNT_COLS]
            have = next(iter(out.rows[row]))
            if have in order and order.index(have) + 1 < len(order):
                out.rows[row][order[order.index(have) + 1]] = next(iter(placed.values()))
            continue
        if row in out.rows and not (row == "total" and pair_values and set(out.rows[row]) <= set(pair_values)):
            continue  # the first row with this label wins (sub-tables repeat the labels)
        seen_label.setdefault(row, label)
        out.rows[row] = {**out.rows.get(row, {}), **placed}
    return out


def _overflow_cut(values: list[Token], n_cols: int) -> int:
    """Where a run of values holding two rows splits: after the first row's columns."""
    seen = 0
    for i, v in enumerate(values):
        if not v.empty:
            seen += 1
        if seen == n_cols:
            return i + 1
    return len(values)
