"""Layouts real forms arrive in: regional columns, pipe tables, one-line forms, encodings,
page breaks, fragments and template rows. Each document here is written out as a real file."""

from __future__ import annotations

from pathlib import Path

from extractor.pipeline.process import process_file

BEIJING_FORM = """项目支出绩效自评表
(2023年度)
项目名称\t\t乡村道路养护项目\t\t\t
主管部门\t\t某县交通运输局\t\t实施单位\t某县公路养护中心\t
项目负责人\t\t王强\t\t联系电话\t0311-5551234\t
项目资金 (万元)\t\t年初预 算数\t全年预 算数\t全年 执行数\t分值\t执行率\t得分
\t年度资金总额\t１２０万元\t120\t113.8699 68\t10\t94.89%\t9.49
\t其中：当年财政 拨款\t120\t120\t113.869968\t—\t—\t—
\t上年结转资 金\t—\t—\t—\t—\t—\t—
\t其他资金\t\t\t\t—\t\t—
年度 总体 目标\t预期目标\t\t\t实际完成情况\t\t
\t完成乡村道路养护80公里。\t\t\t完成养护82公里。\t\t
绩效 指标\t一级指标\t二级指标\t三级指标\t年度 指标 值\t实际 完成 值\t分 值\t得 分\t偏差原因分析 及改进 措施
\t产出指标\t数量指标\t指标1：养护里程\t≥80公里\t82公里\t20\t20\t
\t\t\t指标2：\t\t\t\t\t
\t\t质量指标\t指标1：路面合格率\t≥95%\t96%\t20\t20\t

\t\t时效指标\t指标1：完工时间\t2023年11月底前\t2023年11月\t10\t10\t
\t效益指标\t社会效益指标\t指标1：群众出行条件\t改善\t改善\t30\t28\t部分路段雨季积水
\t满意度指标\t服务对象满意度指标\t指标1：沿线群众满意度\t≥90%\t92%\t10\t10\t
总分\t\t\t\t\t\t100\t97.49\t
"""


def _write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    p = tmp_path / name
    p.write_bytes(text.encode(encoding))
    return p


def _only_form(path: Path):
    res = process_file(path)
    assert res.status == "ok", res.error
    forms = [f for f in res.forms if not f.is_fragment]
    assert len(forms) == 1
    return forms[0], res


def test_tab_dump_with_inserted_spaces_page_break_and_template_row(tmp_path: Path) -> None:
    f, _ = _only_form(_write(tmp_path, "a.txt", BEIJING_FORM))
    assert (f.year, f.project_name, f.project_lead, f.phone) == (2023, "乡村道路养护项目", "王强", "0311-5551234")
    assert f.funds.total.initial == 120 and f.funds.total.executed == 113.869968
    assert f.funds.total.rate == 94.89 and f.funds.total.score == 9.49
    assert f.funds.carryover.initial is None and f.funds.other.initial is None
    assert f.goal_expected == "完成乡村道路养护80公里。" and f.goal_actual == "完成养护82公里。"
    names = [i.name for i in f.indicators]
    assert names == ["指标1：养护里程", "指标1：路面合格率", "指标1：完工时间", "指标1：群众出行条件", "指标1：沿线群众满意度"]
    assert len(f.template_rows) == 1  # 指标2： left unfilled
    assert f.indicators[2].level1 == "产出指标" and f.indicators[2].level2 == "时效指标"  # after the page break
    assert f.indicators[3].deviation == "部分路段雨季积水" and f.indicators[3].score == 28
    assert (f.total_weight, f.total_score) == (100, 97.49)


def test_gbk_and_utf8_bom_and_utf16_decode_alike(tmp_path: Path) -> None:
    for name, enc in (("gbk.txt", "gbk"), ("bom.txt", "utf-8-sig"), ("u16.txt", "utf-16"), ("gb.txt", "gb18030")):
        f, _ = _only_form(_write(tmp_path, name, BEIJING_FORM, enc))
        assert f.project_name == "乡村道路养护项目", name
        assert len(f.indicators) == 5


SICHUAN = """项目支出绩效自评表
（2023年度）
项目名称\t义务教育营养改善计划
主管部门\t某县教育和体育局\t实施单位\t某县教育和体育局
项目资金（万元）\t\t年初预算数\t全年预算数\t全年执行数\t分值\t执行率\t得分
\t年度资金总额\t300\t310\t305.2\t10\t98.45%\t9.85
\t其中：当年财政拨款\t300\t310\t305.2\t—\t—\t—
年度总体目标\t预期目标\t实际完成情况
\t为全县农村学生提供营养膳食补助。\t已为12,650名学生提供补助。
绩效指标\t一级指标\t二级指标\t三级指标\t指标性质\t指标值\t度量单位\t完成值\t权重\t得分\t未完成原因分析
\t产出指标\t数量指标\t受益学生人数\t≥\t12000\t人\t12650\t30\t30\t
\t\t质量指标\t食品安全事故\t=\t0\t起\t0\t30\t30\t
\t效益指标\t社会效益指标\t学生营养状况\t定性\t有所改善\t\t有所改善\t20\t18\t缺少体检数据对比
\t满意度指标\t服务对象满意度指标\t家长满意度\t≥\t90\t%\t93\t10\t10\t
总分\t\t\t\t\t\t\t\t100\t97.85\t
评价结论\t项目完成较好。
存在问题\t无
"""


def test_sichuan_columns_nature_unit_weight(tmp_path: Path) -> None:
    f, _ = _only_form(_write(tmp_path, "sc.txt", SICHUAN))
    first = f.indicators[0]
    assert (first.nature, first.target, first.unit, first.actual, first.weight, first.score) == \
        ("≥", "≥12000人", "人", "12650", 30, 30)  # the target joined as a reader says it (CONTRACT.md)
    assert f.indicators[2].deviation == "缺少体检数据对比"
    assert (f.total_weight, f.total_score) == (100, 97.85)
    assert f.funds.total.full_year == 310


HUBEI_PIPE = """# 2023年度项目支出绩效自评表

| 项目名称 | 公共卫生服务补助 | | | | | | |
|---|---|---|---|---|---|---|---|
| 主管部门 | 某市卫健委 | | | 实施单位 | 某市疾控中心 | | |
| 项目资金（万元） | | 年初预算数 | 全年预算数（A） | 全年执行数（B） | 分值 | 执行率（B/A） | 得分 |
| | 年度资金总额 | 80 | 80 | 72 | 20 | 90% | 18 |
| 年度总体目标 | 预期目标 | | | 实际完成情况 | | | |
| | 完成重点人群<br>健康管理 | | | 完成健康管理<br>1.2万人 | | | |
| 绩效指标 | 一级指标 | 二级指标 | 三级指标 | 年度指标值（A） | 实际完成值（B） | 分值 | 自评分 |
| | 产出指标 | 数量指标 | 健康管理人数 | ≥1.2万人 | 1.2万人 | 40 | 40 |
| | 效益指标 | 社会效益指标 | 传染病报告及时率 | ≥95% | 97% | 40 | 40 |
| 总分 | | | | | | 100 | 98 |
"""


def test_pipe_table_with_hubei_columns_and_br(tmp_path: Path) -> None:
    f, _ = _only_form(_write(tmp_path, "hb.md", HUBEI_PIPE))
    assert f.year == 2023 and f.department == "某市卫健委"
    assert (f.funds.total.weight, f.funds.total.rate, f.funds.total.score) == (20, 90, 18)
    assert f.goal_expected == "完成重点人群健康管理"
    assert [i.score for i in f.indicators] == [40, 40]
    assert f.indicators[1].target == "≥95%"


def test_whole_form_flattened_onto_one_line(tmp_path: Path) -> None:
    flat = ("2023年度项目支出绩效自评表\n项目名称 文化惠民演出 主管部门 某区文旅局 实施单位 某区文化馆 "
            "项目资金（万元） 年初预算数 全年预算数 全年执行数 分值 执行率 得分 年度资金总额 50 50 48 10 96% 9.6 "
            "其中：当年财政拨款 50 50 48 — — — 年度总体目标 预期目标 实际完成情况 全年送戏下乡60场。 完成演出62场。 "
            "绩效指标 一级指标 二级指标 三级指标 年度指标值 实际完成值 分值 得分 偏差原因分析及改进措施 "
            "产出指标 数量指标 指标1：演出场次 ≥60场 62场 40 40 效益指标 社会效益指标 指标1：观众人次 ≥1万人次 "
            "1.1万人次 40 40 满意度指标 服务对象满意度指标 指标1：观众满意度 ≥90% 95% 10 10 总分 100 99.6\n")
    f, _ = _only_form(_write(tmp_path, "flat.txt", flat))
    assert f.project_name == "文化惠民演出" and f.implementing_unit == "某区文化馆"
    assert f.funds.total.executed == 48 and f.funds.total.rate == 96
    assert (f.goal_expected, f.goal_actual) == ("全年送戏下乡60场。", "完成演出62场。")
    assert [(i.level1, i.level2, i.name, i.target, i.actual) for i in f.indicators][1] == \
        ("效益指标", "社会效益指标", "指标1：观众人次", "≥1万人次", "1.1万人次")
    assert (f.total_weight, f.total_score) == (100, 99.6)


def test_table_tail_with_no_project_name_is_a_fragment(tmp_path: Path) -> None:
    tail = ("\t\t\t指标3：第三季度巡查\t完成\t完成\t5\t5\t\n"
            "\t效益指标\t社会效益指标\t指标1：隐患整改率\t100%\t100%\t20\t20\t\n总分\t\t\t\t\t\t100\t100\t\n")
    res = process_file(_write(tmp_path, "frag.txt", BEIJING_FORM + "\n\n" + tail))
    assert res.status == "ok"
    assert [f.is_fragment for f in res.forms] == [False, True]
    frag = res.forms[1]
    assert frag.project_name is None and [i.name for i in frag.indicators] == ["指标3：第三季度巡查", "指标1：隐患整改率"]
    assert res.forms[0].total_score == 97.49  # the form above is not merged with the tail


def test_label_and_value_in_one_cell(tmp_path: Path) -> None:
    text = BEIJING_FORM.replace("项目名称\t\t乡村道路养护项目", "项目名称：乡村道路养护项目")
    f, _ = _only_form(_write(tmp_path, "lv.txt", text))
    assert f.project_name == "乡村道路养护项目"


def test_provenance_spans_point_at_the_value(tmp_path: Path) -> None:
    path = _write(tmp_path, "p.txt", BEIJING_FORM)
    f, _ = _only_form(path)
    text = path.read_text(encoding="utf-8")
    ref = f.sources["project_name"]
    assert text[ref.start:ref.end] == "乡村道路养护项目"
    ind = f.indicators[0]
    tref = ind.sources["target"]
    assert text[tref.start:tref.end] == "≥80公里"
    assert text.splitlines()[tref.line - 1].count("≥80公里") == 1
    ex = f.funds.total.sources["executed"]
    assert text[ex.start:ex.end] == "113.8699 68"


def test_pdf_values_carry_page_and_box(rendered) -> None:
    import pymupdf

    path = rendered[("001_cc20b351adbf8378", "pdf")]
    res = process_file(path)
    form = res.forms[1]
    ref = form.indicators[0].sources["name"]
    assert ref.bbox is not None and ref.page == 2
    with pymupdf.open(str(path)) as doc:
        text = doc[ref.page - 1].get_textbox(pymupdf.Rect(ref.bbox))
    assert "".join(text.split()) == "".join(form.indicators[0].name.split())


def test_csv_saved_from_excel(tmp_path: Path) -> None:
    import csv

    rows = [line.split("\t") for line in BEIJING_FORM.splitlines() if line.strip()]
    p = tmp_path / "form.csv"
    with p.open("w", encoding="gbk", newline="") as fh:
        csv.writer(fh).writerows(rows)
    f, _ = _only_form(p)
    assert f.project_name == "乡村道路养护项目" and len(f.indicators) == 5 and f.total_score == 97.49


def test_form_without_project_name_row_is_still_a_form(tmp_path: Path) -> None:
    text = BEIJING_FORM.replace("项目名称\t\t乡村道路养护项目\t\t\t\n", "")
    res = process_file(_write(tmp_path, "noname.txt", text))
    assert len(res.forms) == 1 and not res.forms[0].is_fragment
    f = res.forms[0]
    assert f.project_name is None and f.department == "某县交通运输局" and len(f.indicators) == 5
    assert "未找到项目名称" in f.warnings


def test_big5_traditional_text_reads_as_the_simplified_form(tmp_path: Path) -> None:
    import opencc

    traditional = opencc.OpenCC("s2t").convert(BEIJING_FORM)
    p = tmp_path / "big5.txt"
    p.write_bytes(traditional.encode("big5", errors="replace"))
    f, _ = _only_form(p)
    assert f.project_name in ("鄉村道路養護項目", "乡村道路养护项目")
    assert len(f.indicators) == 5


def test_chinese_numerals_compare_as_numbers() -> None:
    from extractor.core.quantity import quantity

    assert quantity("≥三项").value == 3
    assert quantity("两次").value == 2
    assert quantity("十二个").value == 12
    assert quantity("按时完成") is None
