"""Rebuild rows from a form flattened onto one line (copied from a web page or a PDF with no layout).

A flattened form reads ``项目名称 X 主管部门 Y … 年度资金总额 25 25 25 10 100% 10 … 绩效指标 一级指标 …
产出指标 数量指标 指标1：… 300 323 10 10 … 总分 100 96``. Known labels cut the line into pieces;
the indicator part is cut into rows at each run of two or more bare numbers (分值, 得分).
"""

from __future__ import annotations

import re

from extractor.document import Cell, Row

_LABELS = [
    r"项目名称", r"主管部门(?:及代码)?", r"实施单位", r"项目负责人", r"联系电话",
    r"项目资金\s*[（(]\s*万?元\s*[)）]", r"年度资金总额", r"其中\s*[:：]\s*(?:当年|本年)?财政拨款",
    r"(?:当年|本年)财政拨款", r"上年结转资金", r"其他资金", r"年度总体目标",
    r"绩效指标(?=\s*一级指标)", r"总\s*分",
]
_LABEL_RE = re.compile("|".join(f"(?:{p})" for p in _LABELS))
_TOKEN = re.compile(r"\S+")
_NUM = re.compile(r"^[0-9０-９]+(?:[.．][0-9０-９]+)?$")
_KEYWORD = re.compile(r"^(?:产出|效益|满意度|成本|数量|质量|时效|经济效益|社会效益|生态效益|可持续影响|"
                      r"服务对象满意度|经济成本|社会成本|生态环境成本)指标$")
_GOAL_HEAD = re.compile(r"^\s*(预期目标)\s*(实际完成情况)?\s*")


def _tokens(text: str, base: int) -> list[Cell]:
    return [Cell(m.group(), base + m.start(), base + m.end()) for m in _TOKEN.finditer(text)]


def _indicator_rows(cells: list[Cell], page: int, line: int) -> list[Row]:
    """Cut the indicator tokens into rows: a row ends after a run of >= 2 bare numbers."""
    rows: list[Row] = []
    cur: list[Cell] = []
    i = 0
    while i < len(cells):
        cur.append(cells[i])
        j = i
        while j + 1 < len(cells) and _NUM.match(cells[j + 1].text) and _NUM.match(cells[i].text):
            j += 1
            cur.append(cells[j])
        run = sum(1 for c in reversed(cur) if _NUM.match(c.text)) if _NUM.match(cells[j].text) else 0
        i = j + 1
        if run >= 2 and len(cur) >= 5:
            # leading keywords are their own cells; the name is what sits between them and
            # the last four values (target, actual, weight, score)
            k = 0
            head: list[Cell] = []
            while k < len(cur) and _KEYWORD.match(cur[k].text) and len(head) < 2:
                head.append(cur[k])
                k += 1
            body = cur[k:]
            name_parts, tail = body[:-4], body[-4:]
            if not name_parts:
                name_parts, tail = body[:1], body[1:]
            name = Cell("".join(c.text for c in name_parts), name_parts[0].start, name_parts[-1].end)
            cells_out = [Cell("")] + head + [name] + tail
            # deviation: a following token that reads like a reason, not a new row
            if i < len(cells) and re.search(r"^(无|原因|偏差|由于|未|因)", cells[i].text) and not _KEYWORD.match(cells[i].text):
                cells_out.append(cells[i])
                i += 1
            rows.append(Row(cells_out, page, line))
            cur = []
    if cur:
        rows.append(Row(cur, page, line))
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
                # the widest gap separates the expected goal from the actual result
                gaps = [(len(m2.group()), m2.start(), m2.end()) for m2 in re.finditer(r"\s+", body.strip())]
                w, a, b = max(gaps, key=lambda g2: (g2[0], -g2[1]))
                stripped = body.strip()
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
