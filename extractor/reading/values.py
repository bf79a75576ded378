"""What a printed value is: a number, a share, an amount with its unit, a comparator, a date, a
qualitative word, free text; and the number it holds.

The reader uses these kinds to fit cells to a table's columns (a 分值 holds a plain number, a
偏差原因 holds text) and to cut glued figures (``40盏40盏2020``) into the cells they were printed in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from extractor.core.lazy_regex import lazy_compile
from extractor.core.vocabulary import QUALITATIVE, UNITS, fold

EMPTY_MARKS = frozenset({"", "—", "-", "–", "－", "——", "/", "／", "\\", "…", "……", "--", "——/"})
_UNIT_ALT = "|".join(re.escape(u) for u in UNITS)
_NUM = r"\d+(?:\.\d+)?"
_CMP = r"(?:≥|≤|>=|<=|>|<|=|≧|≦|大于等于|小于等于|不少于|不低于|不高于|不超过|不大于|不小于|大于|小于|低于|高于|超过|达到|约|控制在)"
_PLAIN = lazy_compile(r"^[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?$")
_PERCENT = lazy_compile(rf"^{_CMP}?[+-]?{_NUM}(?:%|‰)(?:以上|以下|以内|左右)?$")
_AMOUNT = lazy_compile(rf"^{_CMP}?[+-]?(?:\d{{1,3}}(?:,\d{{3}})+|\d+)(?:\.\d+)?(?:{_UNIT_ALT})(?:/(?:年|月|人|次|户))?(?:以上|以下|以内|左右)?$")
_CMP_NUM = lazy_compile(rf"^{_CMP}[+-]?{_NUM}(?:以上|以下|以内|左右)?$")
_NATURE = lazy_compile(r"^(?:≥|≤|>=|<=|>|<|=|≧|≦|＞|＜|定性|定量|正向|反向|正向指标|反向指标|定性指标|定量指标)$")
_DATE = lazy_compile(r"(?:\d{4}年(?:\d{1,2}月)?(?:\d{1,2}日)?|\d{1,2}月(?:\d{1,2}日)?|(?<!\d)(?:19|20)\d{2}[.\-/]\d{1,2}(?:[.\-/]\d{1,2})?(?![\d.]))")
_HAS_DIGIT = lazy_compile(r"\d")
_UNIT_ONLY = lazy_compile(rf"^(?:{_UNIT_ALT})(?:[/·](?:{_UNIT_ALT}|人|天|年|月|次|户|亩|日))*$")


@dataclass(frozen=True, slots=True)
class Kind:
    """The kind of a printed value."""

    name: str  # empty, dash, number, percent, amount, cmp, nature, unit, date, qual, text
    number: float | None = None
    length: int = 0
    digits: bool = False

    @property
    def figure(self) -> bool:
        """A figure a target or actual may hold."""
        return self.name in ("number", "percent", "amount", "cmp", "date")


@lru_cache(maxsize=262144)
def kind_of(text: str) -> Kind:
    """Classify one cell's text."""
    t = fold(text).replace("％", "%")
    n = len(t)
    if t in EMPTY_MARKS:
        return Kind("empty" if not t else "dash", None, n)
    digits = bool(_HAS_DIGIT.search(t))
    if _PLAIN.match(t):
        return Kind("number", float(t.replace(",", "")), n, True)
    if _PERCENT.match(t):
        return Kind("percent", _first_number(t), n, True)
    if _AMOUNT.match(t):
        return Kind("amount", _first_number(t), n, True)
    if _CMP_NUM.match(t):
        return Kind("cmp", _first_number(t), n, True)
    if _NATURE.match(t):
        return Kind("nature", None, n, False)
    if _UNIT_ONLY.match(t):
        return Kind("unit", None, n, False)
    if digits and n <= 24 and _DATE.search(t):
        return Kind("date", None, n, True)
    if t in QUALITATIVE or (n <= 4 and not digits and all(ch in "优良中低差好高是否有无" for ch in t)):
        return Kind("qual", None, n, False)
    return Kind("text", _first_number(t) if digits else None, n, digits)


_FIRST = lazy_compile(r"[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?")


def _first_number(t: str) -> float | None:
    m = _FIRST.search(t)
    return float(m.group(0).replace(",", "")) if m else None


@lru_cache(maxsize=65536)
def parse_number(text: str | None) -> float | None:
    """The number in a cell that holds only a number (units 万元/万/元/分/% allowed), else None."""
    if not text:
        return None
    t = fold(text).replace("％", "%")
    if t in EMPTY_MARKS:
        return None
    t = re.sub(r"(万元|万|元|分|%)$", "", t)
    if _PLAIN.match(t):
        return float(t.replace(",", ""))
    return None


def amount_or_text(text: str | None) -> float | str | None:
    """A funds cell: a number (in the table's unit) when it holds one, None when empty, else the text."""
    if is_empty(text):
        return None
    n = parse_number(text)
    return n if n is not None else text.strip() or None


@lru_cache(maxsize=65536)
def rate_number(text: str | None) -> float | None:
    """An 执行率 cell as a percentage number: ``95.8%`` -> 95.8."""
    if not text:
        return None
    t = fold(text).replace("％", "%")
    if t.endswith("%"):
        return parse_number(t[:-1])
    return parse_number(t)


def is_empty(text: str | None) -> bool:
    """An empty cell or a dash."""
    return text is None or fold(text) in EMPTY_MARKS


# ---- cutting glued text into the cells it was printed in -----------------------------------------
_ATOM = lazy_compile(
    rf"(?P<year>[(（]\d{{4}}年度[)）]|\d{{4}}年度)"
    rf"|(?P<date>\d{{4}}年(?:\d{{1,2}}月)?(?:\d{{1,2}}日)?(?:底之前|底以前|底前|之前|以前|前|底|内)?(?:完成)?"
    rf"|\d{{1,2}}月(?:\d{{1,2}}日)?(?:底之前|底以前|底前|之前|以前|前|底)?(?:完成)?)"
    rf"|(?P<enum>(?:指标|目标|第)\d+[:：、.]?)"
    rf"|(?P<fig>{_CMP}?[+-]?(?:\d+|\.(?=\d+\.))(?:\.?\d+)*(?:%|‰|(?:{_UNIT_ALT})(?![\u4e00-\u9fff]))?(?:以上|以下|以内|左右)?)"
    rf"|(?P<text>[^\d]+?(?={_CMP}?\d|\.\d+\.\d|[(（]\d{{4}}年|$))"
)


def _percent_cut(piece: str) -> int:
    """Where a share glued to the digits before it starts (``12121210100%`` -> 8), or 0."""
    m = re.match(r"^(\d{2,})((?:\.\d+)?%)$", piece)
    if not m:
        # figures with points before the share (200200179.431089.7%): the share is the longest
        # tail of at most 100 that leaves the figures before it whole
        m2 = re.match(r"^([\d.]*\d)(\d{1,3}(?:\.\d+)?)%$", piece)
        if not m2 or "." not in m2.group(1):
            return 0
        body = piece[:-1]
        for k in range(min(6, len(body) - 1), 0, -1):
            pct, head = body[-k:], body[:-k]
            if pct.startswith((".", "0")) or head.endswith(".") or pct.count(".") > 1:
                continue
            if float(pct) <= 100:
                return len(head)
        return 0
    digits = m.group(1)
    if len(digits) <= 3:
        return 0
    best = 0
    for k in (3, 2, 1):
        if k >= len(digits):
            continue
        pct = digits[-k:]
        if pct.startswith("0") and pct != "0":
            continue
        if float(pct) <= 100:
            return len(digits) - k
        best = best or len(digits) - k
    return best


_NATURE_WORD = lazy_compile(r"(定量指标|定性指标|定量|定性|正向指标|反向指标)")


def atoms(text: str) -> list[tuple[int, int]]:
    """Spans of the pieces glued text is made of: texts, figures with their unit, dates.

    ``40盏40盏2020`` -> ``40盏`` ``40盏`` ``2020``; ``12月底之前完成100%`` -> the deadline, ``100%``;
    ``指标1:线上核验`` stays one text. A run of digits stays whole (the table's columns decide where
    it splits); a share at its end is cut off (``12121210100%`` -> ``12121210`` ``100%``).
    """
    spans: list[tuple[int, int, str]] = []
    pos = 0
    while pos < len(text):
        m = _ATOM.match(text, pos)
        if not m or m.end() == pos:
            spans.append((pos, pos + 1, "text"))
            pos += 1
            continue
        kind = m.lastgroup or "text"
        a, b = m.start(), m.end()
        if kind == "fig":
            cut = _percent_cut(text[a:b])
            if cut:
                spans.append((a, a + cut, "fig"))
                spans.append((a + cut, b, "fig"))
                pos = b
                continue
        spans.append((a, b, kind))
        pos = b
    # texts and list numbers join the text around them; a figure inside a CJK run (第3次) stays text
    out: list[list] = []
    for a, b, k in spans:
        if out and (k in ("text", "enum") and out[-1][2] in ("text", "enum")):
            out[-1][1] = b
            out[-1][2] = "text"
        elif out and out[-1][2] == "enum" and k == "fig":
            out[-1][1] = b
            out[-1][2] = "text"
        else:
            out.append([a, b, k])
    # a 指标性质 word glued to the name before it is a cell of its own; so are a 是/否 cell glued to
    # the text after it and a % unit cell glued to the name before it
    split: list[list] = []
    for n, (a, b, k) in enumerate(out):
        if k == "text":
            m = _NATURE_WORD.search(text, a, b)
            if m and m.start() > a:
                split.append([a, m.start(), "text"])
                split.append([m.start(), m.end(), "nature"])
                if m.end() < b:
                    split.append([m.end(), b, "text"])
                continue
        split.append([a, b, k])
    final: list[tuple[int, int]] = []
    for n, (a, b, k) in enumerate(split):
        if k == "text" and b - a >= 3 and text[a] in "是否" and n > 0 and split[n - 1][2] == "fig":
            final.append((a, a + 1))
            a += 1
        if k == "text" and b - a >= 3 and text[b - 1] in "%％‰":
            final.append((a, b - 1))
            final.append((b - 1, b))
            continue
        final.append((a, b))
    return [(a, b) for a, b in final if text[a:b].strip()]
