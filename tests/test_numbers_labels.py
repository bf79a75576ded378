"""Numbers as printed in forms, and the label vocabulary's regional variants."""

from __future__ import annotations

import pytest

from extractor.core.figures import number_or_text, parse_number
from extractor.core.vocabulary import fold, is_template_name, level_of, match
from extractor.reading.forms import heading_year


def fund_column(text: str) -> str | None:
    lab = match(text)
    return lab.role("fund_col.") if lab else None


def indicator_column(text: str) -> str | None:
    lab = match(text)
    return lab.role("ind_col.") if lab else None


def level_kind(text: str) -> frozenset[str]:
    return level_of(text)


@pytest.mark.parametrize(("text", "value"), [
    ("25万", 25.0), ("25万元", 25.0), ("100%", 100.0), ("１００％", 100.0), ("1,863,180", 1863180.0),
    ("113.8699 68", 113.869968), ("２５", 25.0), ("10分", 10.0), (" 2.48 ", 2.48), ("0", 0.0),
])
def test_parse_number_reads_printed_forms(text: str, value: float) -> None:
    assert parse_number(text) == pytest.approx(value)


@pytest.mark.parametrize("text", ["—", "-", "", None, "——", "/", "无"])
def test_dashes_and_blanks_are_null(text) -> None:
    assert parse_number(text) is None
    assert number_or_text(text) is None


def test_text_that_is_not_a_number_is_kept_as_printed() -> None:
    assert number_or_text("23.380701万元成") == "23.380701万元成"
    assert number_or_text("145.40556.6") == "145.40556.6"


@pytest.mark.parametrize(("header", "role"), [
    ("年初预 算数", "initial"), ("全年预算数（A）", "full_year"), ("全年执行数(B)", "executed"),
    ("执行率（B/A）", "rate"), ("分值", "weight"), ("得分", "score"), ("自评分", "score"),
])
def test_fund_columns(header: str, role: str) -> None:
    assert fund_column(header) == role


@pytest.mark.parametrize(("header", "role"), [
    ("年度 指标 值", "target"), ("指标值", "target"), ("实际 完成 值", "actual"), ("完成值", "actual"),
    ("权重", "weight"), ("自评得分", "score"), ("未完成原因分析", "deviation"), ("指标性质", "nature"),
    ("度量单位", "unit"), ("偏差原因分析 及改进 措施", "deviation"), ("三级指标", "name"),
])
def test_indicator_columns_across_regions(header: str, role: str) -> None:
    assert indicator_column(header) == role


@pytest.mark.parametrize(("text", "kinds"), [
    ("产出指标", {"L1"}), ("产出指标(50分)", {"L1"}), ("产出指标70", {"L1"}), ("数量指标", {"L2"}),
    ("成本指标", {"L1", "L2"}), ("服务对象满意度标", {"L2"}), ("效益指 标", {"L1"}), ("指标", {"L2"}),
    ("群众满意度", set()), ("指标1：线上核验任务300项", set()), ("出标产指", {"L1"}), ("數量指標", {"L2"}),
    ("完成指标", set()), ("数量指标15分", {"L2"}),
])
def test_level_labels(text: str, kinds: set[str]) -> None:
    assert set(level_kind(text)) == kinds


@pytest.mark.parametrize(("text", "year"), [
    ("(2024年度)", 2024), ("（  2023  年度）", 2023), ("2023年度项目支出绩效自评表", 2023),
    ("项目支出绩效自评表（2022年度）", 2022), ("2023 年全年预算数 2608.92 万元", None),
])
def test_heading_year(text: str, year: int | None) -> None:
    assert heading_year(text) == year


@pytest.mark.parametrize(("text", "template"), [
    ("指标1：", True), ("指标 2:", True), ("……", True), ("指标1：线上核验", False), ("不涉及", False),
])
def test_template_names(text: str, template: bool) -> None:
    assert is_template_name(text) is template


@pytest.mark.parametrize(("text", "roles"), [
    ("項(xiàng)目名稱", {"field.project_name"}), ("转移支付(项目)名称", {"field.project_name"}),
    ("实施单位 (盖章)", {"field.implementing_unit"}), ("负责人及电话", {"field.lead_and_phone"}),
    ("年度资金总额:", {"fund_row.total"}), ("其中：当年财政 拨款", {"fund_row.fiscal"}),
    ("全年(If整)预算数", {"fund_col.full_year"}),  # an OCR misreading within a small edit distance
    ("预算执行情况(万元)(20分)", {"block.funds"}),
])
def test_labels_across_regions_and_converters(text: str, roles: set[str]) -> None:
    lab = match(text)
    assert lab is not None and roles <= set(lab.roles)


def test_label_notes_are_attributes() -> None:
    lab = match("预算执行情况(万元)(20分)")
    assert lab is not None and lab.points == 20 and lab.unit == "万元"
    assert match("产出指标(50分)").points == 50


def test_folding_removes_mirror_pinyin_and_converts_traditional() -> None:
    assert fold("中央財政農業防災減(jiǎn)災(zāi)") == "中央财政农业防灾减灾"
    assert fold("年初预 算数") == "年初预算数"
