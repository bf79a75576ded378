"""Indicator names run together with nothing between them.

A host that strips every digit from a form leaves a group's names glued into one cell
(``国家励志奖学金人数国家助学金人数应征入伍人数``). Nothing marks the boundaries but the names
themselves: rows of one group usually end alike (…人数, …人均资助, …满意度). A digit-free cell
that ends with a word it repeats at least twice is cut after each repeat; a note in brackets and a
stray ``分`` left by a stripped score are cut off as cells of their own, and so are the ``是`` /
``否`` values glued after a yes-no indicator (``评审程序是否公正是是``).
"""

from __future__ import annotations

import re

from extractor.core.lazy_regex import lazy_compile
from extractor.core.vocabulary import level_of, match
from extractor.reading.stream import Sep, Token
from extractor.reading.values import kind_of

_CJK = lazy_compile(r"^[\u4e00-\u9fff]+$")
_PROSE = lazy_compile(r"[，。；,;！？、\s]")
_NOTE = lazy_compile(r"[(（][^()（）]*[)）]")
_STRAY_SCORE = lazy_compile(r"(?<=[率数度性])分(?=[\u4e00-\u9fff]{3})")
_YES_NO_TAIL = lazy_compile(r"^(.{4,}?[^是否有无])([是否有无])([是否有无])$")
# a qualitative grade printed twice after the name: target and actual (资金使用合规性好好)
_GRADE_TAIL = lazy_compile(r"^(.{4,}?)(优秀|良好|较好|合格|达标|高|好|优|良|强|中)\2$")
_ENUM = lazy_compile(r"^(?:指标|目标)\s*\d+[:：、.]?\D*$")
_NATURE_ANAGRAMS = frozenset("".join(sorted(w)) for w in ("定性指标", "定量指标"))

Piece = tuple[str, str]  # (text, "name" | "value" | "note" | "stray" | "level")


def _split_name(piece: str) -> list[Piece]:
    """A name with what came before it: a stray 分 and bracketed notes."""
    out: list[Piece] = []
    if piece.startswith("分"):
        out.append(("分", "stray"))
        piece = piece[1:]
    pos = 0
    for m in _NOTE.finditer(piece):
        if m.start() > pos:
            out.append((piece[pos:m.start()], "name"))
        out.append((m.group(), "note"))
        pos = m.end()
    if pos < len(piece):
        out.append((piece[pos:], "name"))
    return out


def _doubled_tail(text: str) -> re.Match | None:
    """A name with the same wording printed twice after it (target and actual of a qualitative
    row): ``…培训已完成已完成``, ``…素养逐步提高逐步提高``."""
    for n in range(min(8, (len(text) - 4) // 2), 1, -1):
        w = text[-n:]
        if text[-2 * n:-n] == w and not any(ch.isdigit() for ch in w) and not _PROSE.search(w) and \
                text[-2 * n - 1:-2 * n] != w[-1:]:
            return re.match(rf"^(.{{4,}}?)({re.escape(w)})({re.escape(w)})$", text)
    return None


def name_cuts(text: str) -> list[Piece] | None:
    """The cells of a glued run of names, or None when it does not read as several."""
    if len(text) < 6:
        return None
    plain = _NOTE.sub(lambda m: "\0" * len(m.group()), text)
    if _PROSE.search(plain):
        return None  # a sentence, not names
    numbered = any(ch.isdigit() for ch in text)
    if numbered:
        # a numbered name (指标1:…) may still carry its doubled value
        tail = _doubled_tail(text)
        if tail is None or any(ch.isdigit() for ch in tail.group(1)[4:]) and not _ENUM.match(tail.group(1)):
            return None
    else:
        tail = _YES_NO_TAIL.match(text) or _GRADE_TAIL.match(text) or _doubled_tail(text)
    if tail:
        name = tail.group(1)
        if not numbered and len(name) >= 8 and "".join(sorted(name[-4:])) in _NATURE_ANAGRAMS:
            head: list[Piece] = [(name[:-4], "name"), (name[-4:], "stray")]  # a vertical 定性指标, scrambled
        else:
            head = [(name, "name")]
        value = tail.group(2)
        return head + [(value, "value"), (text[len(name) + len(value):], "value")]
    stray = _STRAY_SCORE.search(plain)
    if stray and stray.start() >= 4:
        return [(text[: stray.start()], "name"), ("分", "stray"), (text[stray.end():], "name")]
    if len(text) < 8:
        return None
    for size in (4, 3, 2):
        suffix = plain[-size:]
        if not _CJK.match(suffix):
            continue
        ends = [m.end() for m in re.finditer(re.escape(suffix), plain)]
        if len(ends) < 2:
            continue
        chunks, pos = [], 0
        for e in ends:
            chunks.append(text[pos:e])
            pos = e
        if all(len(_NOTE.sub("", c).lstrip("分")) >= size + 2 for c in chunks):
            return [q for c in chunks for p in _split_name(c) for q in _level_tail(p)]
    return None


def _level_tail(piece: Piece) -> list[Piece]:
    """A 'name' that ends with a level label (…服务对象满意度) is the group's labels, not a row: the
    label is a level cell, and what stands before it (a vertical merged label printed out of
    order, 益标效指) is no name either."""
    text, role = piece
    if role != "name":
        return [piece]
    for n in range(min(10, len(text) - 1), 3, -1):
        tail = text[-n:]
        if level_of(tail):
            head = text[:-n]
            out: list[Piece] = []
            if head:
                out.append((head, "stray" if "指" in head and "标" in head else "name"))
            return out + [(tail, "level")]
    return [piece]


def split_name_runs(tokens: list[Token]) -> list[Token]:
    """Glued digit-free runs of names cut into one cell per name (notes and stray 分 apart)."""
    if not any(t.glued for t in tokens):
        return tokens
    out: list[Token] = []
    for t in tokens:
        pieces = name_cuts(t.text) if t.glued and t.label is None else None
        if not pieces:
            out.append(t)
            continue
        pos = 0
        for n, (body, role) in enumerate(pieces):
            s0 = t.start + pos if t.start >= 0 else -1
            out.append(Token(body, t.page, s0, s0 + len(body) if s0 >= 0 else -1,
                             t.sep if n == 0 else Sep.NONE, t.blank if n == 0 else 0, t.bbox, t.conf,
                             t.row, t.col, True, match(body), kind_of("" if role == "stray" else body),
                             name_hint=role == "name"))
            pos += len(body)
    return out
