"""The form's header fields: each label takes the value printed after it.

A field label is read wherever it stands (the first cell of a row, the middle of a line, glued to
its value). A row of labels followed by a row of values (``项目名称 | 主管部门`` over
``XXX | YYY``) is paired in order. ``负责人及电话 王某13900001111`` is split into name and number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from extractor.core.lazy_regex import lazy_compile
from extractor.core.vocabulary import fold
from extractor.reading.stream import Sep, Token
from extractor.reading.values import is_empty, parse_number

_LEAD_PHONE = lazy_compile(r"^(.*?)[\s:：,，/]*((?:\+?86)?[\d\-－—()（）\s]{7,})$")
_PHONE = lazy_compile(r"\d[\d\-－—\s]{5,}\d")
_YEAR_VALUE = lazy_compile(r"(20\d{2})")


@dataclass
class FieldValue:
    """A header value and the tokens it was read from."""

    text: str
    tokens: list[Token] = field(default_factory=list)


def _join(tokens: list[Token]) -> str:
    out = ""
    for t in tokens:
        if out and t.sep == Sep.SPACE and out[-1].isascii() and t.text[:1].isascii():
            out += " "
        out += t.text
    return out.strip()


_ORG = lazy_compile(r"(局|委|办|中心|政府|公司|院|站|所|馆|处|室|部|厅|会|队|校|街道|镇|乡|社|协会|办公室|管委会|事务所|集团)$")
_PROJECT = lazy_compile(r"项目|经费|资金|补助|补贴|工程|专项|费$|服务$|建设$")


def value_kind(text: str) -> str | None:
    """``org`` for a unit's name (…局, …中心), ``project`` for a project's name, else None."""
    f = fold(text)
    if len(f) < 4 or len(f) > 50 or _SENTENCE.search(f) or f[:1].isdigit():
        return None
    if _ORG.search(f):
        return "org"
    if _PROJECT.search(f):
        return "project"
    return None


_SENTENCE = lazy_compile(r"[，。；;,:：]")
_WANTS = {"project_name": "project", "department": "org", "implementing_unit": "org", "unit_name": "org",
          "self_total": "score"}


def _score_like(tokens: list[Token], li: int, oi: int) -> bool:
    """A 自评得分 printed apart from its label: a figure of at most 100, before the funds table."""
    v = parse_number(tokens[oi].text) if tokens[oi].kind.name == "number" else None
    if v is None or not 0 <= v <= 100:
        return False
    return not any(t.label is not None and (t.label.has("fund_") or "block.funds" in t.label.roles)
                   for t in tokens[li + 1:oi])


def read_fields(tokens: list[Token], fields: list[tuple[int, list[int]]],
                orphans: list[int] | None = None, department_form: bool = False) -> dict[str, FieldValue]:
    """role -> value for the header fields (first value wins).

    A PDF dump that prints a table column by column puts labels and values apart: a label left
    without a value takes the next unclaimed cell of the form's head that reads like its kind of
    value (a project's name, a unit's name), in print order.
    """
    out: dict[str, FieldValue] = {}
    pending: list[tuple[int, str]] = []
    unit_names: list[list[int]] = []
    for li, vals in fields:
        lab = tokens[li].label
        assert lab is not None
        role = lab.role("field.") or ""
        if role == "unit_name" and vals:
            unit_names.append(vals)  # a 单位名称 is the department only when no 主管部门 is printed
        elif vals:
            _put(out, role, [tokens[v] for v in vals])
        elif role in _WANTS:
            pending.append((li, role))
    for vals in unit_names:
        if department_form:
            out.pop("department", None)  # a 部门整体 form is about the unit it names
        _put(out, "unit_name", [tokens[v] for v in vals])
        break
    used = {v for _li, vals in fields for v in vals}
    for li, role in pending:
        if role in out or (role == "unit_name" and "department" in out):
            continue
        want = _WANTS[role]
        for oi in orphans or []:
            if oi <= li or oi in used:
                continue
            if (_score_like(tokens, li, oi) if want == "score" else value_kind(tokens[oi].text) == want):
                used.add(oi)
                _put(out, role, [tokens[oi]])
                break
    return out


def _put(out: dict[str, FieldValue], role: str, value_tokens: list[Token]) -> None:
    text = _join(value_tokens)
    if not text or is_empty(text):
        return
    if role == "lead_and_phone":
        m = _LEAD_PHONE.match(text)
        if m and m.group(1).strip():
            out.setdefault("project_lead", FieldValue(m.group(1).strip(), value_tokens))
            out.setdefault("phone", FieldValue(re.sub(r"\s", "", m.group(2)), value_tokens))
        elif _PHONE.search(text):
            out.setdefault("phone", FieldValue(text, value_tokens))
        else:
            out.setdefault("project_lead", FieldValue(text, value_tokens))
        return
    if role == "project_lead":
        m = _LEAD_PHONE.match(text)
        if m and m.group(1).strip() and len(re.sub(r"\D", "", m.group(2))) >= 7:
            out.setdefault("project_lead", FieldValue(m.group(1).strip(), value_tokens))
            out.setdefault("phone", FieldValue(re.sub(r"\s", "", m.group(2)), value_tokens))
            return
    if role == "unit_name":
        role = "department"
    if role == "year":
        m = _YEAR_VALUE.search(fold(text))
        if not m:
            return
        text = m.group(1)
    if role == "self_total" and parse_number(text) is None:
        return
    out.setdefault(role, FieldValue(text, value_tokens))
