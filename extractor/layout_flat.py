"""Rebuild rows from a form flattened onto one line (copied from a web page or a PDF with no layout).

A flattened form reads ``项目名称 X 主管部门 Y … 年度资金总额 25 25 25 10 100% 10 … 绩效指标 一级指标 …
产出指标 数量指标 指标1：… 300 323 10 10 … 总分 100 96``. Known labels cut the line into pieces;
the indicator part is cut into rows at each run of two or more bare numbers (分值, 得分).
"""

from __future__ import annotations

import re

from extractor.document import Cell, Row
from extractor.labels import level_kind
from extractor.numbers import clean

_LABELS = [
    r"项目名称", r"主管部门(?:及代码)?", r"实施单位", r"项目负责人", r"联系电话",
    r"项目资金\s*[（(]\s*万?元\s*[)）]", r"年度资金总额", r"其中\s*[:：]\s*(?:当年|本年)?财政拨款",
    r"(?:当年|本年)财政拨款", r"上年结转资金", r"其他资金", r"年度总体目标",
    r"绩效指标(?=\s*一级指标)", r"总\s*分",
]
_LABEL_RE = re.compile("|".join(f"(?:{p})" for p in _LABELS))
_TOKEN = re.compile(r"\S+")
_NUM = re.compile(r"^[0-9０-９]+(?:[.．][0-9０-９]+)?$")
class _Keyword:
    """A first/second-level label token (``产出指标``, ``服务对象满意度标``…), never a bare ``指标``."""

    @staticmethod
    def match(text: str) -> bool:
        return bool(level_kind(text)) and clean(text) != "指标"


_KEYWORD = _Keyword()
_GOAL_HEAD = re.compile(r"^\s*(预期目标)\s*(实际完成情况)?\s*")


def _tokens(text: str, base: int) -> list[Cell]:
    return [Cell(m.group(), base + m.start(), base + m.end()) for m in _TOKEN.finditer(text)]


_NAME_START = re.compile(r"^指标\s*\d+\s*[:：]")
_TEMPLATE = re.compile(r"^(指标\s*\d*\s*[:：]?|[…\.。·]+)$")
_REASON = re.compile(r"^(无|原因|偏差|由于|因|未|受|已整改|改进)")


def _is_num(c: Cell) -> bool:
    return bool(_NUM.match(c.text))


def _row_from(cur: list[Cell], page: int, line: int) -> list[Row]:
    """One indicator row from its tokens: [levels…] name… target actual weight score [deviation]."""
    head: list[Cell] = []
    k = 0
    while k < len(cur) and _KEYWORD.match(cur[k].text) and len(head) < 2:
        head.append(cur[k])
        k += 1
    body = cur[k:]
    if body and all(_TEMPLATE.match(c.text) for c in body):
        # unfilled template rows: one row each, levels on the first
        out = [Row([Cell(""), *head, body[0]], page, line)]
        out += [Row([Cell(""), Cell(""), Cell(""), c], page, line) for c in body[1:]]
        return out
    if not body:
        return [Row([Cell(""), *head], page, line)]
    run = 0
    while run < len(body) and _is_num(body[len(body) - 1 - run]):
        run += 1
    dev: list[Cell] = []
    if run == 0 and len(body) >= 6 and _is_num(body[-2]) and _is_num(body[-3]) and _REASON.match(body[-1].text):
        dev, body, run = [body[-1]], body[:-1], 2
    if run >= 2 and len(body) >= 5:
        name_parts, tail = body[:-4], body[-4:]
    elif run >= 2:
        name_parts, tail = body[:1], body[1:]
    else:
        name_parts, tail = body[:1], body[1:]
    name = Cell("".join(c.text for c in name_parts), name_parts[0].start, name_parts[-1].end)
    return [Row([Cell(""), *head, name, *tail, *dev], page, line)]


def _indicator_rows(cells: list[Cell], page: int, line: int) -> list[Row]:
    """Cut the indicator tokens into rows: at a level label, at ``指标N：``, or after 分值 得分."""
    rows: list[Row] = []
    cur: list[Cell] = []
    joined: list[Cell] = []
    for c in cells:  # "指标 1:" split by a space is one token
        if joined and joined[-1].text == "指标" and re.match(r"^\d+\s*[:：]", c.text):
            joined[-1] = Cell(joined[-1].text + c.text, joined[-1].start, c.end)
        else:
            joined.append(c)
    cells = joined

    def content() -> int:
        return sum(1 for c in cur if not _KEYWORD.match(c.text))

    i = 0
    while i < len(cells):
        c = cells[i]
        starts_name = bool(_NAME_START.match(c.text)) or (
            c.text == "指标" and i + 1 < len(cells) and re.match(r"^\d+\s*[:：]", cells[i + 1].text))
        if content() and (_KEYWORD.match(c.text) or starts_name or _TEMPLATE.match(c.text)):
            if (len(cur) == 1 and rows and rows[-1].cells and _is_num(rows[-1].cells[-1])
                    and not _TEMPLATE.match(cur[0].text)):
                rows[-1].cells.append(cur[0])  # a lone text after 分值 得分: that row's deviation
            else:
                rows.extend(_row_from(cur, page, line))
            cur = []
        cur.append(c)
        i += 1
        nxt = cells[i] if i < len(cells) else None
        if _is_num(c) and (nxt is None or not _is_num(nxt)):
            run = 0
            while run < len(cur) and _is_num(cur[len(cur) - 1 - run]):
                run += 1
            if run >= 2 and content() >= 5:
                if nxt is not None and _REASON.match(nxt.text) and not _KEYWORD.match(nxt.text):
                    cur.append(nxt)
                    i += 1
                rows.extend(_row_from(cur, page, line))
                cur = []
    if cur:
        rows.extend(_row_from(cur, page, line))
    return rows


def split_flat_line(line: str, start: int, page: int, number: int) -> list[Row] | None:
    """Rows of a flattened form, or None when the line is not one."""
    matches = list(_LABEL_RE.finditer(line))
    if len({m.group() for m in matches}) < 4:
        return None
    rows: list[Row] = []
    head = line[: matches[0].start()].strip()
    if head:
        rows.append(Row([Cell(head, start, start + matches[0].start())], page, number))
    for k, m in enumerate(matches):
        end = matches[k + 1].start() if k + 1 < len(matches) else len(line)
        label = Cell(m.group(), start + m.start(), start + m.end())
        rest = line[m.end():end]
        base = start + m.end()
        key = re.sub(r"\s", "", m.group())
        if key.startswith("绩效指标"):
            toks = _tokens(rest, base)
            n_head = 0
            while n_head < len(toks) and re.search(r"指标|指标值|完成值|分值|得分|措施|原因", toks[n_head].text) \
                    and not _KEYWORD.match(toks[n_head].text):
                n_head += 1
            rows.append(Row([label, *toks[:n_head]], page, number))
            rows.extend(_indicator_rows(toks[n_head:], page, number))
        elif key == "年度总体目标":
            g = _GOAL_HEAD.match(rest)
            body_off = g.end() if g else 0
            rows.append(Row([label, Cell("预期目标"), Cell("实际完成情况")], page, number))
            body = rest[body_off:]
            texts = [p for p in re.split(r"\s+", body.strip()) if p]
            if len(texts) >= 2:
                # the expected goal and the actual result are split at the widest gap, preferring a
                # gap after a sentence end, then the one nearest the middle
                stripped = body.strip()
                gaps = [(len(m2.group()), m2.start(), m2.end()) for m2 in re.finditer(r"\s+", stripped)]
                mid = len(stripped) / 2
                w, a, b = max(gaps, key=lambda g2: (g2[0], stripped[g2[1] - 1] in "。；;！!）)", -abs(g2[1] - mid)))
                off = base + body_off + (len(body) - len(body.lstrip()))
                rows.append(Row([Cell(""), Cell(stripped[:a], off, off + a),
                                 Cell(stripped[b:], off + b, off + len(stripped))], page, number))
            elif texts:
                off = base + body_off + (len(body) - len(body.lstrip()))
                rows.append(Row([Cell(""), Cell(texts[0], off, off + len(texts[0]))], page, number))
        elif key in ("项目名称", "实施单位", "项目负责人", "联系电话") or key.startswith("主管部门"):
            val = rest.strip()
            off = base + (len(rest) - len(rest.lstrip()))
            rows.append(Row([label, Cell(val, off, off + len(val))], page, number))
        else:
            rows.append(Row([label, *_tokens(rest, base)], page, number))
    return rows
