"""The Chinese names of the records' fields: one place for every message, warning and screen a
user reads (the funds table's rows and columns, the form's fields, the indicator columns)."""

from __future__ import annotations

FUND_ROWS = {"total": "年度资金总额", "fiscal": "当年财政拨款", "carryover": "上年结转资金", "other": "其他资金"}
FUND_AMOUNTS = {"initial": "年初预算数", "full_year": "全年预算数", "executed": "全年执行数"}
FUND_COLUMNS = {**FUND_AMOUNTS, "rate": "执行率", "weight": "分值", "score": "得分"}
FORM_FIELDS = {"project_name": "项目名称", "department": "主管部门", "implementing_unit": "实施单位",
               "project_lead": "项目负责人", "phone": "联系电话", "year": "年度",
               "goal_expected": "预期目标", "goal_actual": "实际完成情况",
               "total_weight": "总分分值", "total_score": "总分得分"}
INDICATOR_FIELDS = {"level1": "一级指标", "level2": "二级指标", "name": "三级指标", "target": "年度指标值",
                    "actual": "实际完成值", "weight": "分值", "score": "得分", "deviation": "偏差原因"}


def chinese_name(key: str) -> str:
    """The Chinese name of a record field (a form field, an indicator column or a funds column)."""
    return FORM_FIELDS.get(key) or INDICATOR_FIELDS.get(key) or FUND_COLUMNS.get(key, key)
