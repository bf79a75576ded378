"""The draft of 存在的问题 / 建议 from reviewed forms: counts with their denominators, fragments not
counted as projects, categories seen once folded together, the years that follow the batch's, and
a draft with nothing reviewed that says so."""

from __future__ import annotations

from typing import Any

from extractor.draft.sections import draft_sections


def _form(name: str | None, year: int, flags: list[dict[str, Any]], rows: int = 4) -> dict[str, Any]:
    return {"project_name": name, "department": "某区财政局", "year": year, "is_fragment": name is None,
            "indicators": [{"name": f"指标{i}"} for i in range(rows)], "flags": flags}


VAGUE = {"code": "vague-target", "severity": "warn", "indicator": 0, "message": "「甲」指标“指标0”的目标未量化"}


def test_counts_name_their_denominators_and_fragments_are_not_projects() -> None:
    forms = [_form(f"项目{i}", 2023, [dict(VAGUE, message=f"「项目{i}」指标“指标0”的目标未量化")] if i < 3 else [])
             for i in range(6)] + [_form(None, 2023, [VAGUE])]
    intro, problems, advice, _ = draft_sections(forms)
    assert "6个项目中有3个（占50%），另有表格残片1个，涉及全部28项指标中的4项" in problems[0]
    assert "自评表7份" in intro
    # 2023 forms are evaluated in 2024, whose targets are set: targets for 2025, the next self-evaluation of 2024
    assert "编制2025年度绩效目标" in advice[0] and "2023年度自评" not in "".join(advice)


def test_categories_seen_in_one_project_each_are_one_paragraph() -> None:
    one = [{"code": "goal-copied", "severity": "warn", "indicator": None, "message": "「项目0」总体目标完成情况照抄预期目标"},
           {"code": "unit-mismatch", "severity": "warn", "indicator": 1, "message": "「项目1」指标“指标1”单位不一致"}]
    forms = [_form("项目0", 2023, [one[0], VAGUE]), _form("项目1", 2023, [one[1], VAGUE])] + [
        _form(f"项目{i}", 2023, [VAGUE]) for i in range(2, 6)]
    _, problems, advice, annex = draft_sections(forms)
    assert len(problems) == len(advice) == 2 and problems[1].startswith("（二）其他问题。")
    assert "照抄预期目标" in problems[1] and "单位不一致" in problems[1]
    assert {a for a, _, _ in annex} >= {"（一）绩效指标设置不够明确，量化程度不足"}


def test_accepted_only_with_nothing_reviewed_says_so_not_that_all_is_well() -> None:
    intro, problems, _, _ = draft_sections([_form("项目0", 2023, [VAGUE])], accepted_only=True)
    assert problems == [] and "尚未复核任何审核意见" in intro and "未发现需要列示的问题" not in intro
    intro, _, _, _ = draft_sections([_form("项目0", 2023, [])], accepted_only=True)
    assert "未发现需要列示的问题" in intro


def test_a_misread_form_gets_no_structure_findings_and_is_listed_for_reading_not_quoted() -> None:
    """035 is a PDF dumped column by column (reading confidence 0.2): no arithmetic or structure
    finding is made on it; the draft lists it for a person to read and quotes none of its flags."""
    from conftest import ROOT

    from extractor.core.config import load_config
    from extractor.pipeline.process import process
    from extractor.review.engine import STRUCTURE_CODES
    from extractor.store.contract import result_to_contract

    res = process(ROOT / "eval_sets" / "real" / "035_suzhou_caizheng_zaibei_zhongxin_2021.txt", load_config())
    [form] = res.forms
    assert form.confidence < 0.7 and not {f.code for f in form.flags} & STRUCTURE_CODES
    assert any("未做计分与结构类审核" in w for w in form.warnings)
    misread = result_to_contract(res, provenance=False)["forms"][0]
    ok = _form("项目0", 2021, [VAGUE])
    intro, problems, _, _ = draft_sections([misread, ok])
    assert "另有1份表的读取结果不够可靠，如「市财政灾备中心建设」" in intro and "自评表2份" in intro
    assert "市财政灾备中心建设" not in "".join(problems) and "1个项目中有1个" in problems[0]


def test_weights_that_echo_their_targets_make_a_reading_doubtful() -> None:
    from extractor.core.records import Form, Indicator
    from extractor.review.engine import doubtful_reading

    form = Form(confidence=0.95, indicators=[Indicator(name="设备", target="4台", weight=4),
                                             Indicator(name="培训", target="2.98", weight=2.98),
                                             Indicator(name="满意度", target="≥90%", weight=10)])
    assert "分值列疑似读自指标值列" in (doubtful_reading(form) or "")
    form.indicators[1].weight = 20
    assert doubtful_reading(form) is None


def test_the_intro_says_how_the_batch_scored_itself() -> None:
    forms = [dict(_form(f"项目{i}", 2023, [VAGUE]), total_weight=100, total_score=100 if i < 3 else 90,
                  rescore={"gap": 4.0 if i < 3 else 0.0}) for i in range(5)]
    intro, *_ = draft_sections(forms)
    assert "5份填有总分的自评表中3份自评满分" in intro and "5份可重算的表自评总分平均高出2.4分" in intro


def test_the_draft_marks_what_a_form_cannot_show_for_the_evaluator_to_fill_in() -> None:
    from extractor.draft.sections import to_markdown

    md = to_markdown(*draft_sections([_form("项目0", 2023, [VAGUE])]))
    head, tail = md.split("## 二、有关建议")
    assert "【待评价人补充】" in head and "合同" in head and "问卷" in head and "【待评价人补充】" not in tail


def test_one_indicator_set_filed_for_several_projects_is_a_finding() -> None:
    rows = [{"name": f"指标{i}", "target": f"≥{i + 1}次"} for i in range(4)]
    forms = [dict(_form(f"项目{i}", 2023, []), indicators=rows) for i in range(3)] + [_form("项目9", 2023, [VAGUE])]
    _, problems, advice, _ = draft_sections(forms)
    text = "".join(problems)
    assert "不同项目的绩效指标雷同。3个项目存在此类情况" in text and "「项目0」、「项目1」、「项目2」等3个项目的4项" in text
    assert len(problems) == len(advice)
    forms[1] = dict(forms[1], project_name="项目0")  # the same project sent twice is no copy
    assert "雷同" not in "".join(draft_sections(forms[0:2] + forms[3:])[1])


def test_one_part_per_department_and_year_with_aliases_merged_and_sections_not_departments() -> None:
    """Senior evaluator's first fix: a batch of several departments is drafted per 主管部门 and year;
    通州区发改委 and 北京市通州区发展和改革委员会 are one department; a form filed by 办公室 belongs to
    the department its file names; traditional characters are shown simplified."""
    from extractor.draft.sections import department_groups, draft_markdown

    def f(name: str, dept: str, year: int | None, unit: str | None = None) -> dict[str, Any]:
        return dict(_form(name, year or 2023, [dict(VAGUE, message=f"「{name}」指标“指标0”的目标未量化",
                                                      evidence="完成")]),
                    department=dept, year=year, implementing_unit=unit)

    forms = [f("甲", "通州区发改委", 2023), f("乙", "北京市通州区发展和改革委员会", 2023), f("丙", "北京市通州区发展和改革委员会", None),
             f("丁", "丰台区信访办公室", 2024), f("戊", "办公室", 2024, "丰台区信访办公室"), f("己", "省農業農村廳", 2024)]
    groups = department_groups(forms)
    assert [(g[0], g[1], len(g[2])) for g in groups] == [
        ("北京市通州区发展和改革委员会", 2023, 3), ("丰台区信访办公室", 2024, 2), ("省农业农村厅", 2024, 1)]
    text = draft_markdown(forms)
    assert "## 一、北京市通州区发展和改革委员会（2023年度）" in text and "## 二、丰台区信访办公室（2024年度）" in text
    assert "3个主管部门" in text and "审核办公室" not in text
    assert "编制2025年度绩效目标" in text and "编制2026年度绩效目标" in text  # each part its own years


def test_fragments_and_empty_cells_are_counted_but_never_quoted() -> None:
    empty = dict(VAGUE, evidence="（空）", message="「乙」指标“指标0”的年度指标值“（空）”未量化")
    forms = [_form(None, 2023, [dict(VAGUE, evidence="完成")]), _form("乙", 2023, [empty]),
             _form("丙", 2023, [dict(VAGUE, evidence="按需", message="「丙」指标“指标0”的年度指标值“按需”未量化")])]
    _, problems, _, _ = draft_sections(forms)
    assert "2个项目中有2个" in problems[0] and "另有表格残片1个" in problems[0]
    assert "「丙」" in problems[0] and "（空）" not in problems[0] and "表格残片」" not in problems[0]
