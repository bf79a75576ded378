"""The 年度总体目标: what the form expected, and what it says was done.

The block holds its headings (预期目标 / 实际完成情况 and their regional names, sometimes a
全年(调整) goal between them) and the texts under them. Texts are dealt to the headings in the
order a grid prints them: row by row when each goal line has its partner beside it (``目标1 … |
目标1 …``), heading by heading otherwise; a heading that carries its own text (``预期目标：…``) keeps it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from extractor.core.lazy_regex import lazy_compile
from extractor.reading.stream import Sep, Token

_NUMBERED = lazy_compile(r"^\s*(?:目标|指标)?\s*(\d{1,2})\s*[:：、.．]")


@dataclass
class GoalsRead:
    """The two goal texts and the cells they were read from."""

    expected: list[Token] = field(default_factory=list)
    actual: list[Token] = field(default_factory=list)
    adjusted: list[Token] = field(default_factory=list)


def _heading(tok: Token) -> str | None:
    lab = tok.label
    if lab is None:
        return None
    for role in ("goal.expected", "goal.actual", "goal.adjusted"):
        if role in lab.roles:
            return role.split(".")[1]
    return None


def read_goals(tokens: list[Token], idx: list[int]) -> GoalsRead:
    """Read the goals block (token indices ``idx``)."""
    out = GoalsRead()
    heads: list[str] = []
    texts: list[Token] = []
    pairs: dict[str, list[Token]] = {}
    seen_heads = [_heading(tokens[i]) for i in idx if _heading(tokens[i])]
    repeated = len(seen_heads) > len(set(seen_heads))  # a grid that repeats merged headings
    k = 0
    while k < len(idx):
        t = tokens[idx[k]]
        h = _heading(t)
        if h:
            nxt = tokens[idx[k + 1]] if k + 1 < len(idx) else None
            if (nxt is not None and nxt.label is None and not nxt.empty and nxt.sep <= Sep.SPACES
                    and t.text.rstrip().endswith((":", "："))):
                pairs.setdefault(h, []).append(nxt)
                k += 2
                continue
            if h not in heads:
                heads.append(h)
            k += 1
            continue
        if t.label is not None and ("block.goals" in t.label.roles):
            k += 1
            continue
        if t.label is None and not t.empty and t.kind.name not in ("number", "percent"):
            if repeated and texts and t.text == texts[-1].text and t.sep <= Sep.CELL:
                k += 1
                continue  # a merged cell whose text the grid repeats in every column it spans
            texts.append(t)
        k += 1
    for h, toks in pairs.items():
        getattr(out, h).extend(toks)
    if not texts:
        return out
    if not heads:
        heads = ["expected", "actual"]
    if "expected" not in heads and "actual" in heads and len(texts) >= 2:
        heads = ["expected"] + heads
    _deal(out, heads, texts)
    return out


def _deal(out: GoalsRead, heads: list[str], texts: list[Token]) -> None:
    n = len(heads)
    if n == 1:
        getattr(out, heads[0]).extend(texts)
        return
    if len(texts) == 1:
        getattr(out, heads[0]).extend(texts)
        return
    nums = [_number(t.text) for t in texts]
    # row by row: 目标1 | 目标1 | 目标2 | 目标2 …, or each line beside its partner on one line
    if len(texts) % n == 0 and len(texts) > n:
        interleaved = all(nums[i] is not None and len(set(nums[i:i + n])) == 1 for i in range(0, len(texts), n))
        same_line = all(all(texts[i + j].sep <= Sep.CELL for j in range(1, n)) for i in range(0, len(texts), n))
        if interleaved or same_line:
            for i, t in enumerate(texts):
                getattr(out, heads[i % n]).append(t)
            return
    # heading by heading: a numbering that restarts begins the next heading's texts
    groups: list[list[Token]] = [[]]
    prev: int | None = None
    for t, num in zip(texts, nums):
        if groups[-1] and num is not None and prev is not None and num <= prev and len(groups) < n:
            groups.append([])
        groups[-1].append(t)
        if num is not None:
            prev = num
    if len(groups) == 1:
        first, rest = texts[:1], texts[1:]
        if n >= 3:
            getattr(out, heads[0]).extend(first)
            getattr(out, heads[1]).extend(rest[:1])
            getattr(out, heads[2]).extend(rest[1:])
            return
        groups = [first, rest]
    for h, g in zip(heads, groups):
        getattr(out, h).extend(g)


def _number(text: str) -> int | None:
    m = _NUMBERED.match(text)
    return int(m.group(1)) if m else None
