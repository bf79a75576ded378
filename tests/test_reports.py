"""The offline reader of narrative 绩效评价报告, on the real reports of eval_sets/reports (gold labelled
by one helper and checked against the source by a second) and on small documents that pin down
each layout it must handle."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import ROOT

from evalkit.harness import evaluate_case, load_cases
from evalkit.metrics import Score
from extractor.ingest import ingest
from extractor.pipeline.process import process
from extractor.reading.extract import extract_document

CASES = load_cases(ROOT / "eval_sets" / "reports")


def test_the_real_reports_are_read_offline_to_the_bar() -> None:
    """Fields ≥ 0.90 and 问题/建议 items F1 ≥ 0.90 over every gold report, and no report where the
    gold has none (the forms and target tables of the real set)."""
    total = Score()
    false_reports = []
    for case in CASES:
        s = evaluate_case(case)
        total.add(s)
        if s.reports_gold == 0 and s.reports_pred:
            false_reports.append(case.input_path.name)
    assert total.reports_gold >= 29 and total.report_accuracy >= 0.90, total.report_line()
    assert Score.prf(total.report_items)[2] >= 0.90, total.report_line()
    assert not false_reports


def test_the_seed_forms_hold_no_report() -> None:
    for name in ("001_cc20b351adbf8378.txt", "002_ef0035a2046f2b5a.docx", "003_3db43c30d19b3157.xlsx"):
        assert process(ROOT / "samples" / name).reports == [], name


def _read(tmp_path: Path, text: str, name: str = "r.txt"):  # type: ignore[no-untyped-def]
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return extract_document(ingest(str(p)))


def test_a_report_cut_at_numbered_headings_of_every_style(tmp_path: Path) -> None:
    """Full-width and half-width brackets, 1. and 1、, ①, 一是/二是: each top-level item is one
    problem or suggestion, its number removed, its sub-points kept."""
    res = _read(tmp_path, "某县农业农村局2023年度高标准农田建设项目绩效评价报告\n"
                "一、基本情况\n2023年全年预算数 1,200.50 万元，全年执行数 1100.2 万元，预算执行率为91.64%。\n"
                "二、评价结论\n经评价，该项目综合得分 80.56 分，等级为“良”。\n"
                "三、存在的问题\n（一）绩效目标设置不够细化。\n1. 部分指标未量化；\n2. 产出指标缺少时限。\n"
                "(二)资金拨付不及时。\n"
                "四、建议\n①细化绩效目标。\n②加快资金拨付进度。\n")
    [rep] = res.reports
    assert (rep.kind, rep.unit, rep.project, rep.year) == ("evaluation", "某县农业农村局", "高标准农田建设项目", 2023)
    assert (rep.budget_total, rep.executed_total, rep.execution_rate) == (1200.5, 1100.2, 91.64)
    assert (rep.total_score, rep.grade) == (80.56, "良")
    assert rep.problems == ["绩效目标设置不够细化。1. 部分指标未量化;2. 产出指标缺少时限。", "资金拨付不及时。"]  # NFKC
    assert rep.suggestions == ["细化绩效目标。", "加快资金拨付进度。"]
    assert rep.sources["problems.1"].line == 10 and rep.sources["budget_total"].line == 3


def test_a_department_report_that_says_there_is_nothing_keeps_those_words(tmp_path: Path) -> None:
    res = _read(tmp_path, "区政府办公室2023年度部门整体支出绩效自评报告\n一、部门概况\n"
                + "区政府办公室坚持以人民为中心，全面履行职责，各项目标任务均已全面完成。" * 3 + "\n"
                "二、存在的问题\n暂无。\n三、改进措施\n一是加强预算管理；二是完善绩效目标。\n")
    [rep] = res.reports
    assert rep.kind == "department" and rep.project is None and rep.unit == "区政府办公室"
    assert rep.problems == ["暂无。"] and rep.suggestions == ["加强预算管理;", "完善绩效目标。"]
    assert rep.claims_complete


def test_amounts_in_yuan_are_converted_and_noted(tmp_path: Path) -> None:
    res = _read(tmp_path, "2022年某镇人民政府乡村道路养护项目绩效自评报告\n一、项目概况\n"
                + "项目预算批复 1,250,000 元，实际支出 1,000,000 元，用于道路养护和路灯维修。" * 3 + "\n")
    [rep] = res.reports
    assert rep.kind == "self" and rep.budget_total == 125.0 and rep.executed_total == 100.0
    assert set(rep.converted_from_yuan) == {"budget_total", "executed_total"}


def test_traditional_characters_and_a_mirrors_pinyin_are_read_as_printed(tmp_path: Path) -> None:
    res = _read(tmp_path, "岳陽縣財(cái)政支出項(xiàng)目績效評價(jià)自評報(bào)告\n"
                "評價(jià)類型:項(xiàng)目完成結(jié)果評價(jià)\n項(xiàng)目名稱    森林防火專項(xiàng)\n"
                "項(xiàng)目單位    岳陽縣林業(yè)局\n評價(jià)方式:部門(單位)績效自評\n一、項(xiàng)目基本概況\n"
                "項(xiàng)目起止時(shí)間 2021年1月起至2021年12月止，計劃安排資金(萬元) 55，實際支出(萬元) 55，"
                "資金已全部按規定用途使用，未發現違規問題。\n")
    [rep] = res.reports
    assert (rep.kind, rep.unit, rep.project, rep.year) == ("self", "岳陽縣林業局", "森林防火專項", 2021)
    assert rep.budget_total == 55 and rep.executed_total == 55


def test_a_page_title_and_a_table_of_contents_make_no_second_report(tmp_path: Path) -> None:
    res = _read(tmp_path, "首页 > 通知公告 > 绩效评价报告\n部门整体支出及项目支出绩效评价报告\n发布时间:2022-04-15\n"
                "部门整体支出绩效评价报告\n目 录\n一、基本情况\t- 1 -\n二、存在的问题\t- 2 -\n"
                "一、基本情况\n2021年部门决算收入792.22万元，支出799.12万元，其中人员经费434.89万元，公用经费77.4万元，"
                "项目支出286.83万元，均按预算执行。\n二、存在的问题\n无\n")
    [rep] = res.reports
    assert rep.kind == "department" and rep.income_total == 792.22 and rep.executed_total == 799.12
    assert rep.problems == ["无"] and rep.year == 2021


def test_a_report_and_its_forms_in_one_file_are_both_read() -> None:
    res = process(ROOT / "eval_sets" / "real" / "044_luan_wenlv_gonggong_wenhua_2021.txt")
    assert len(res.forms) == 1 and len(res.reports) == 1
    rep = res.reports[0]
    assert rep.total_score == 95 and rep.budget_total == 200 and rep.execution_rate == 89.7
    assert len(rep.problems) == 2 and len(rep.suggestions) == 1


def test_the_export_carries_every_report_field_with_provenance(tmp_path: Path) -> None:
    from extractor.store.contract import report_from_contract, result_to_contract

    res = process(ROOT / "samples" / "000_6226a1c3cfbc3ef3.txt")
    out = result_to_contract(res)
    keys = {"kind", "unit", "project", "year", "budget_total", "executed_total", "execution_rate", "total_score",
            "grade", "self_score", "self_grade", "projects", "problems", "suggestions", "flags"}
    assert len(out["reports"]) == 2 and all(keys <= set(r) for r in out["reports"])
    assert out["reports"][1]["provenance"]["total_score"]["line"] == 344
    back = report_from_contract(json.loads(json.dumps(out["reports"][1])))
    assert back.model_dump() == res.reports[1].model_dump()


def test_report_rules_flag_what_an_evaluator_would_question() -> None:
    from extractor.core.records import Form, Report, ReportProject
    from extractor.review.report_rules import review_report

    rep = Report(kind="evaluation", project="乡村道路养护项目", budget_total=200, executed_total=150,
                 execution_rate=80, income_total=140, total_score=82, self_score=98, problems=["暂无。"],
                 projects=[ReportProject(name="道路养护", amount=150), ReportProject(name="路灯维修", amount=80)])
    form = Form(project_name="乡村道路养护项目")
    form.funds.total.full_year, form.funds.total.executed = 200, 160
    codes = [f.code for f in review_report(rep, [form]).flags]
    assert codes[0] == "problems-none" and "执行率仅75%" not in rep.flags[0].message
    assert {"report-rate-mismatch", "expense-over-income", "parts-over-total", "self-score-high",
            "report-form-mismatch"} <= set(codes)
    calm = Report(kind="self", budget_total=100, executed_total=98, execution_rate=98, problems=["暂无问题"])
    assert review_report(calm, []).flags == []  # 暂无 beside figures that agree is not questioned
    boast = Report(kind="self", problems=["资金拨付不及时"], claims_complete="各项目标均已全部完成")
    assert [f.code for f in review_report(boast, []).flags] == ["claims-complete"]


def test_the_draft_quotes_the_reports_own_problems_and_a_none_the_figures_contradict() -> None:
    from extractor.draft.sections import draft_sections

    reports = [{"kind": "department", "unit": "县政协", "problems": ["无"], "flags": [
                   {"code": "problems-none", "severity": "warn", "message": "「县政协」存在的问题写“无”，但预算执行率仅72%"}]},
               {"kind": "evaluation", "unit": "某县农业农村局", "project": "高标准农田建设项目",
                "problems": ["绩效目标设置不够细化。", "资金拨付不及时。"], "flags": []}]
    intro, problems, advice, _ = draft_sections([], reports=reports)
    text = "".join(problems)
    assert "绩效评价报告2份" in intro and len(problems) == len(advice) == 2
    assert "「某县农业农村局高标准农田建设项目」报告提出“绩效目标设置不够细化”" in text
    assert "「县政协部门整体支出」存在的问题写“无”，但预算执行率仅72%" in text and "“无”" not in problems[0]


def test_a_report_is_checked_against_the_forms_of_its_project_elsewhere_in_the_batch(tmp_path: Path) -> None:
    """The 044 form says 179.43 万元 spent; a report on the same project in another file says 150:
    the review output of the report's file carries the mismatch, with both figures."""
    from extractor.core.config import load_config
    from extractor.pipeline.batch import run_batch

    src = tmp_path / "in"
    src.mkdir()
    form_text = (ROOT / "eval_sets" / "real" / "044_luan_wenlv_gonggong_wenhua_2021.txt").read_text(encoding="utf-8")
    (src / "form.txt").write_text(form_text[form_text.index("项目支出绩效自评表"):], encoding="utf-8")
    (src / "report.txt").write_text(
        "六安市文化和旅游局2021年度公共文化服务体系经费项目绩效评价报告\n一、项目概况\n"
        + "全年预算数为200万元，执行数为150万元，完成预算的75%。项目按计划组织实施，活动覆盖全市各县区。" * 3
        + "\n二、存在的问题\n暂无。\n", encoding="utf-8")
    out = tmp_path / "out"
    run_batch(sorted(src.iterdir()), out, config=load_config())
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))["reports"][0]
    codes = {f["code"]: f for f in report["flags"]}
    assert "report-form-mismatch" in codes and "150" in codes["report-form-mismatch"]["evidence"]
    assert "179.43" in codes["report-form-mismatch"]["evidence"]
    assert "problems-none" in codes and "执行率仅75%" in codes["problems-none"]["message"]


def test_a_combined_problems_section_and_a_measures_section_in_the_body(tmp_path: Path) -> None:
    """``四、存在的问题及改进建议`` with plain items: the items are problems; its sub-sections, when it has
    them, say which is which. A body section on the work done (``二、主要做法和措施``) is no 建议."""
    body = "项目按计划实施，资金按规定拨付，各项工作有序推进，取得了较好的社会效益。" * 3
    res = _read(tmp_path, "某区教育局2022年度校舍维修项目绩效评价报告\n一、项目概况\n" + body + "\n"
                "二、主要做法和措施\n（一）加强组织领导。\n（二）规范资金管理。\n"
                "三、存在的问题及改进建议\n1.部分项目验收滞后。\n2.档案资料不够完整。\n")
    [rep] = res.reports
    assert rep.problems == ["部分项目验收滞后。", "档案资料不够完整。"] and rep.suggestions == []
    res = _read(tmp_path, "某区教育局2022年度校舍维修项目绩效评价报告\n一、项目概况\n" + body + "\n"
                "二、存在的问题及改进建议\n（一）存在的问题\n部分项目验收滞后。\n（二）改进建议\n加快验收进度。\n", "r2.txt")
    [rep] = res.reports
    assert rep.problems == ["部分项目验收滞后。"] and rep.suggestions == ["加快验收进度。"]


REPORT_PARAS = ["某县农业农村局2023年度高标准农田建设项目绩效评价报告", "一、基本情况",
                "2023年全年预算数 1,200.50 万元，全年执行数 1100.2 万元，预算执行率为91.64%。项目涉及全县12个乡镇，"
                "建设内容包括土地平整、灌溉排水、田间道路和农田防护，由县农业农村局组织实施并开展绩效自评。",
                "二、评价结论", "经评价，该项目综合得分 80.56 分，等级为“良”。",
                "三、存在的问题", "（一）绩效目标设置不够细化，部分指标未量化，产出指标缺少完成时限，难以据此考核项目实施效果。",
                "（二）资金拨付不及时。", "四、建议", "（一）细化绩效目标。", "（二）加快资金拨付进度。"]


def _check_rendered(res) -> None:  # type: ignore[no-untyped-def]
    [rep] = res.reports
    assert (rep.unit, rep.project, rep.year, rep.budget_total, rep.executed_total) == (
        "某县农业农村局", "高标准农田建设项目", 2023, 1200.5, 1100.2)
    assert (rep.execution_rate, rep.total_score, rep.grade) == (91.64, 80.56, "良")
    assert len(rep.problems) == 2 and rep.problems[0].startswith("绩效目标设置不够细化") \
        and rep.problems[0].endswith("实施效果。")
    assert rep.suggestions == ["细化绩效目标。", "加快资金拨付进度。"]


def test_a_report_in_a_word_file(tmp_path: Path) -> None:
    import docx

    d = docx.Document()
    for p in REPORT_PARAS:
        d.add_paragraph(p)
    d.save(str(tmp_path / "report.docx"))
    _check_rendered(process(tmp_path / "report.docx"))


def test_a_report_in_a_pdf_whose_lines_wrap(tmp_path: Path) -> None:
    """A PDF text layer on a narrow page: paragraphs wrap onto several lines."""
    import pymupdf

    archive = pymupdf.Archive()
    archive.add(pymupdf.Font("cjk").buffer, "cjk.ttf")
    html = "".join(f"<p>{p}</p>" for p in REPORT_PARAS)
    writer = pymupdf.DocumentWriter(str(tmp_path / "report.pdf"))
    rect = pymupdf.Rect(0, 0, 320, 900)
    story = pymupdf.Story(html=html, user_css="@font-face {font-family: cjk; src: url(cjk.ttf);} body {font-family: cjk; font-size: 10pt;}",
                          archive=archive)
    more = True
    while more:
        dev = writer.begin_page(rect)
        more, _ = story.place(rect + (24, 24, -24, -24))
        story.draw(dev)
        writer.end_page()
    writer.close()
    _check_rendered(process(tmp_path / "report.pdf"))
