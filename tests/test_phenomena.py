"""Each layout phenomenon of real text dumps (tests/phenomena/, copied from ../shared/phenomena/)
is read the way a person reads it (the README there)."""

from __future__ import annotations

from pathlib import Path

import pytest

from extractor.core.records import Form
from extractor.pipeline.process import process_file

HERE = Path(__file__).parent / "phenomena"


def _forms(name: str) -> list[Form]:
    res = process_file(next(HERE.glob(f"{name}*.txt")))
    assert res.status == "ok", res.error
    return res.forms


def _one(name: str) -> Form:
    forms = _forms(name)
    assert len(forms) == 1, [f.project_name for f in forms]
    return forms[0]


def _row(ind) -> tuple:
    return (ind.level1, ind.level2, ind.name, ind.target, ind.actual, ind.weight, ind.score)


def _funds(row) -> tuple:
    return (row.initial, row.full_year, row.executed, row.weight, row.rate, row.score)


def test_a1a_cell_stream_with_pipes_label_then_next_cell() -> None:
    f = _one("A1a")
    assert (f.project_name, f.department) == ("农家书屋管护补助", "某县图书馆")
    assert f.funds.total.initial == 8  # the bare "|" line is an empty cell, not a value


def test_a1b_cell_stream_rows_from_blank_runs() -> None:
    f = _one("A1b")
    assert f.project_name == "农家书屋管护补助"
    assert [(i.name, i.target, i.actual, i.score) for i in f.indicators] == [("借阅人次", "≥2000", "2150", 10)]


def test_a2_pipes_without_leading_pipe_and_merged_levels_omitted() -> None:
    f = _one("A2")
    assert [_row(i) for i in f.indicators] == [
        ("产出指标", "数量指标", "保洁河道长度", "≥12公里", "12.4公里", 20, 20),
        ("产出指标", "质量指标", "漂浮物清除率", "≥95%", "97%", 10, 10)]


def test_a2b_funds_read_by_labels_and_column_order_not_lines() -> None:
    f = _one("A2b")
    assert (f.project_name, f.department, f.funds.unit) == ("校舍维修工程", "某区教委", "元")
    assert _funds(f.funds.total) == (None, 52000, 51800, 10, 99.6, 9.9)  # 51800 / 52000 = 99.6%
    assert f.funds.fiscal.full_year == 51800


def test_a3_whole_form_on_one_line() -> None:
    f = _one("A3")
    assert (f.year, f.project_name, f.department, f.implementing_unit) == (2021, "路灯维护经费", "某乡政府办", "某乡政府办")
    assert _funds(f.funds.total) == (15, 15, 14.2, 10, 94.7, 9.5)  # the ':' after the label is no value
    assert (f.goal_expected, f.goal_actual) == ("维护路灯300盏。", "维护路灯300盏,更换灯头42个。")
    assert [_row(i) for i in f.indicators] == [
        ("产出指标(50分)", "数量指标", "维护路灯数量", "≥300盏", "300", 20, 20),
        ("满意度指标(10分)", "满意度指标", "居民满", None, None, None, None)]  # empty 经济效益 row: no row


def test_a4_scrambled_line_read_by_types_and_arithmetic() -> None:
    f = _one("A4")
    assert (f.year, f.project_name, f.department, f.implementing_unit) == (2022, "老年助餐补贴", "某区老龄办", "某街道办事处")
    assert _funds(f.funds.total) == (30, 30, 28.5, 10, 95, 9.5)  # 28.5 / 30 = 95%, 95% x 10 = 9.5
    assert (f.funds.fiscal.full_year, f.funds.fiscal.executed) == (30, 28.5)
    assert [_row(i) for i in f.indicators] == [
        ("产出指标(50分)", "数量指标", "指标1:助餐人次", "12000", "11800", 20, 19)]


def test_a5_glued_text_cut_by_labels_and_arithmetic() -> None:
    f = _one("A5")
    assert (f.year, f.project_name) == (2020, "社区路灯改造")
    assert _funds(f.funds.total) == (12, 12, 12, 10, 100, 10)  # 12121210100%10: 12/12 = 100%
    assert [_row(i) for i in f.indicators] == [
        ("产出指标", "数量指标", "改造路灯数量", "40盏", "40盏", 20, 20),
        ("产出指标", "质量指标", "路灯亮灯率", "100%", "100%", 20, 18)]  # the page marker 2、 is no value
    assert (f.total_weight, f.total_score) == (100, 98)  # 总分10098


def test_a6_tab_grid_with_a_spacer_column() -> None:
    f = _one("A6")
    assert _row(f.indicators[0]) == ("产出指标", "数量指标", "参训人次", "≥300人次", "320人次", 20, 20)
    assert (f.total_weight, f.total_score) == (100, 95)


def test_s1a_department_form() -> None:
    f = _one("S1a")
    assert (f.kind, f.project_name, f.department, f.year) == ("department", None, "某县档案馆", 2023)
    assert _funds(f.funds.total) == (86, 86, 85.1, 10, 98.95, 9.9)


def test_s1b_transfer_payment_form() -> None:
    f = _one("S1b")
    assert (f.kind, f.project_name, f.department) == ("transfer", "农机购置补贴", "某县农机中心")
    assert (f.funds.total.full_year, f.funds.total.executed, f.funds.total.rate) == (500, 480, 96)


def test_s1c_numbered_sections_and_label_value_pairs() -> None:
    f = _one("S1c")
    assert (f.project_name, f.implementing_unit) == ("冬季取暖补助", "某县救助站")
    assert (f.funds.total.full_year, f.funds.total.executed, f.funds.total.rate) == (20, 19, 95)
    i = f.indicators[0]
    assert ("".join(i.target.split()), i.actual, i.weight, i.score) == (">=500户", "512户", 40, 40)


def test_s2_regional_synonyms() -> None:
    f = _one("S2")
    assert (f.project_lead, f.phone, f.implementing_unit) == ("王某", "13900001111", "某乡政府办")
    assert f.funds.total.weight == 20  # 预算执行情况(万元)(20分)
    assert (f.goal_expected, f.goal_actual) == ("改造户厕200户", "完成改造户厕186户")


def test_s3_split_target_joined() -> None:
    f = _one("S3")
    assert [(i.target, i.actual, i.weight, i.score) for i in f.indicators] == [
        ("≥420人", "431", 10, 10), ("=100%", "100%", 10, 10)]


def test_s4_unknown_levels_stay_null_and_custom_levels_are_levels() -> None:
    f = _one("S4")
    assert [(i.level1, i.level2, i.name) for i in f.indicators] == [
        (None, None, "指标1:随访人数"), (None, "质量指标", "指标1:随访规范率"),
        ("效益指标", "志愿服务类指标", "覆盖社区数量")]


@pytest.mark.parametrize("path", sorted(HERE.glob("*.txt")), ids=lambda p: p.name)
def test_every_phenomenon_is_read_with_provenance(path: Path) -> None:
    res = process_file(path)
    text = path.read_text(encoding="utf-8")
    for f in res.forms:
        for i in f.indicators:
            ref = i.sources.get("name")
            if ref is not None and ref.start is not None:
                assert i.name and text[ref.start:ref.end].replace(" ", "")[:2] == i.name.replace(" ", "")[:2]
