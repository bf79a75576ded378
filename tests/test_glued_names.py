"""Glued runs that only the cells' own words can cut: names with nothing between them, scoring
rules in prose, a unit glued to the name, a bracketed note that belongs to its label."""

from pathlib import Path

from extractor.pipeline.process import process_file
from extractor.reading.names import name_cuts

STRIPPED = ("学生资助项目绩效自评表项目名称某学院学生资助项目主管部门某省教育厅项目实施单位某学院"
            "一级指标二级指标三级指标年初目标值()实际完成值()得分产出指标数量国家奖学金人数国家助学金人数"
            "应征入伍人数成本指标国家奖学金人均资助国家助学金人均资助效益指标社会效益指标资金发放率分困难生完成学业率"
            "过程指标评审程序是否公正是是\n")


def test_name_runs_cut_where_the_names_end() -> None:
    assert [p for p, r in name_cuts("国家励志奖学金人数国家助学金人数应征入伍人数") if r == "name"] == [
        "国家励志奖学金人数", "国家助学金人数", "应征入伍人数"]
    assert name_cuts("评审程序是否公正是是") == [("评审程序是否公正", "name"), ("是", "value"), ("是", "value")]
    assert name_cuts("资金使用合规性好好")[1:] == [("好", "value"), ("好", "value")]
    assert name_cuts("资金发放率分困难生完成学业率") == [("资金发放率", "name"), ("分", "stray"), ("困难生完成学业率", "name")]
    # a vertical label printed out of order and a level label glued before the group's name
    assert name_cuts("益标效指服务对象满意度退捕渔民抽样调查满意度") == [
        ("益标效指", "stray"), ("服务对象满意度", "level"), ("退捕渔民抽样调查满意度", "name")]
    # any wording printed twice after a name (numbered names too) is its target and actual
    assert name_cuts("指标1:食品安全监管人员培训已完成已完成") == [
        ("指标1:食品安全监管人员培训", "name"), ("已完成", "value"), ("已完成", "value")]
    # a sentence, a single name and a figure are left alone
    assert name_cuts("按照要求完成工作，按照要求") is None
    assert name_cuts("群众满意度") is None
    assert name_cuts("培训人数100人培训人数") is None


def test_a_digit_stripped_table_reads_one_row_per_name(tmp_path: Path) -> None:
    p = tmp_path / "stripped.txt"
    p.write_text(STRIPPED, encoding="utf-8")
    res = process_file(p)
    forms = [f for f in res.forms if not f.is_fragment]
    assert len(forms) == 1
    names = [i.name for i in forms[0].indicators]
    assert names == ["国家奖学金人数", "国家助学金人数", "应征入伍人数", "国家奖学金人均资助", "国家助学金人均资助",
                     "资金发放率", "困难生完成学业率", "评审程序是否公正"]
    last = forms[0].indicators[-1]
    assert (last.target, last.actual) == ("是", "是")
    assert forms[0].indicators[3].level2 == "成本指标"


FLAT = ("某市财政预算支出项目绩效自评表 项目名称 道路维护项目 项目主管单位 某市交通局 项目实施单位 某市交通局 "
        "一级指标 二级指标 三级指标 指标值 实际完成值 分值 得分 评价标准 "
        "产出指标 数量指标 维护道路长度 300 公里 300 公里 20 20 1、提供佐证资料 1 分; 没有不得分。 "
        "质量指标 验收合格率 100% 100% 20 20 有验收报告计 2 分,没有不得分。 总分 40 40\n")


def test_wrapped_scoring_rules_are_not_rows(tmp_path: Path) -> None:
    p = tmp_path / "flat.txt"
    p.write_text(FLAT, encoding="utf-8")
    forms = [f for f in process_file(p).forms if not f.is_fragment]
    assert len(forms) == 1
    assert [i.name for i in forms[0].indicators] == ["维护道路长度", "验收合格率"]


def test_labels_with_points_take_the_rows_their_points_need() -> None:
    from extractor.core.records import Indicator
    from extractor.reading.build import _regroup_by_points

    rows = [Indicator(level1="项目决策 2 分", name="决策依据", weight=2),
            Indicator(level1="项目决策 2 分", name="财务制度", weight=3),
            Indicator(level1="项目管理 13 分", name="组织机构", weight=2),
            Indicator(level1="项目管理 13 分", name="运行监管", weight=4),
            Indicator(level1="项目管理 13 分", name="目标申报", weight=4)]
    _regroup_by_points(rows, "level1")
    assert [r.level1 for r in rows] == ["项目决策 2 分"] + ["项目管理 13 分"] * 4
    # points that do not add up either way: nothing moves
    rows[1].weight = 5
    rows[1].level1 = "项目决策 2 分"
    _regroup_by_points(rows, "level1")
    assert rows[1].level1 == "项目决策 2 分"


def test_a_run_whose_figures_lost_their_digits_before_the_point() -> None:
    from extractor.reading.digits import is_run, splits
    from extractor.reading.values import atoms

    text = "年度总金额.32.06.5"
    assert [text[a:b] for a, b in atoms(text)] == ["年度总金额", ".32.06.5"]
    assert is_run(".32.06.5") and (".32", ".06", ".5") in splits(".32.06.5", 3)
    assert not is_run(".5")


def test_a_header_wrapped_onto_two_lines_and_a_second_table() -> None:
    import tempfile
    from pathlib import Path as _P

    from extractor.ingest import read_text_file  # noqa: F401  (the reader the CLI uses for .txt)

    text = ("某市项目支出绩效自评表 项目名称 办公网维护 项目主管单位 某市纪委 "
            "项目权重 评价内容 分值 自评分 项目决策 2 分 决策依据 2 2 项目管理 3 分 财务制度 3 3 "
            "一级指标 二级 指标名称 年初指 年终完 自评 复核 标值 成值 分 分 "
            "产出指标 数量指标 采购设备 10台套 10台套 15\n")
    with tempfile.TemporaryDirectory() as d:
        p = _P(d) / "two_tables.txt"
        p.write_text(text, encoding="utf-8")
        forms = [f for f in process_file(p).forms if not f.is_fragment]
    rows = {i.name: i for i in forms[0].indicators}
    assert rows["决策依据"].weight == 2 and rows["财务制度"].score == 3
    eq = rows["采购设备"]
    assert (eq.target, eq.actual, eq.score) == ("10台套", "10台套", 15)
