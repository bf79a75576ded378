"""Command line: ``extractor extract|review|eval``. Thin: parses options, calls the stages, prints
a Chinese summary. Everything a user reads here is in Chinese."""

from __future__ import annotations

from extractor.core.startup import cli_process_ready, cli_process_starting

cli_process_starting()  # no garbage collection while the imports below run (see core.startup)

import json
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import click

from extractor import __version__
from extractor.cli_zh import use_chinese
from extractor.core.records import LOW_READING_CONFIDENCE, ExtractionResult
from extractor.pipeline.batch import STATE_TEXT, BatchReport, run_batch, state_of
from extractor.pipeline.inputs import find_inputs
from extractor.terminal import bars, say, show_table

use_chinese()  # click's help headings and usage errors
cli_process_ready()


def _llm_step(use_llm: bool, llm_config: str | None, scope: str):  # type: ignore[no-untyped-def]
    if not use_llm:
        return None
    from extractor.core.errors import ConfigError
    from extractor.llm.client import OFFLINE_NOTE, load_llm_config
    from extractor.llm.step import LLMStep

    try:
        cfg = load_llm_config(llm_config)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    if not cfg.configured:
        say(f"提示：{OFFLINE_NOTE}")
        return None
    say(f"大模型步骤：{cfg.model}（{cfg.base_url}，模式 {cfg.resolved_mode}，并发 {cfg.concurrency}）")
    return LLMStep(cfg, scope=scope)


def _print_llm(step) -> None:  # type: ignore[no-untyped-def]
    if step is None:
        return
    u = step.usage
    say(f"大模型：得到回答 {u.calls} 份，缓存命中 {u.cached} 次，失败 {u.failed} 次，超时 {u.timed_out} 次；"
        f"{u.http.text()}；输入 {u.tokens_in} tokens，输出 {u.tokens_out} tokens，估算费用 {u.cost:.4f}")
    if u.values_used or u.values_disputed or u.values_refused:
        say(f"大模型的值：补充或更正 {u.values_used} 处（均已在原文中核实），与规则解析不一致 {u.values_disputed} 处"
            f"（保留规则解析），未能核实而未采用 {u.values_refused} 处；详见各表的 llm 记录")
    for e in u.errors[:10]:
        say(f"  · {e}")


def _run(paths: tuple[str, ...], out: str, provenance: bool, fail_fast: bool, quiet: bool,
         transform=None, llm=None, config=None, workers: int = 1, force: bool = False,
         jsonl: str | None = None, ray: str | None = None) -> BatchReport:  # type: ignore[no-untyped-def]
    with ExitStack() as stack:
        stream = None
        if jsonl is not None:
            stream = sys.stdout if jsonl == "-" else stack.enter_context(open(jsonl, "w", encoding="utf-8"))
            quiet = quiet or jsonl == "-"  # standard output carries the stream alone
        cluster = None
        if ray:
            cluster = _ray_engine(ray, workers, llm, fail_fast, quiet)
            stack.callback(cluster.close)
        return _run_files(paths, out, provenance, fail_fast, quiet, transform, llm, config, workers, force, stream,
                          cluster)


def _ray_engine(address: str, workers: int, llm, fail_fast: bool, quiet: bool):  # type: ignore[no-untyped-def]
    """The Ray cluster a batch runs on (``--ray``), or a clear error."""
    if llm is not None:
        raise click.ClickException("--ray 不能与 --llm 同时使用：大模型步骤在本机并发调用接口。"
                                   "请先用 --ray 完成抽取与审核，再对需要的文件单独加 --llm 运行")
    if fail_fast:
        raise click.ClickException("--ray 不能与 --fail-fast 同时使用：集群上各文件同时处理，无法在第一个失败处停止")
    from extractor.pipeline.on_ray import ClusterError, RayEngine

    try:
        engine = RayEngine(address, workers)
    except ClusterError as exc:
        raise click.ClickException(str(exc)) from exc
    if not quiet:
        say(engine.describe())
    return engine


def _run_files(paths: tuple[str, ...], out: str, provenance: bool, fail_fast: bool, quiet: bool, transform, llm,
               config, workers: int, force: bool, stream, cluster=None) -> BatchReport:  # type: ignore[no-untyped-def]
    found = find_inputs(paths)
    files = found.files
    if not files:
        from extractor.ingest import SUPPORTED_TEXT

        for p, why in found.skipped[:20]:
            say(f"  · 跳过 {p}：{why}")
        raise click.ClickException(f"没有找到可处理的文件（支持{SUPPORTED_TEXT}）。请检查路径。")
    out_dir = Path(out)
    from extractor.core.cores import cores

    kw = dict(provenance=provenance, fail_fast=fail_fast, transform=transform, llm=llm, config=config,
              skipped=found.skipped, workers=workers or cores(), resume=not force,
              jsonl=stream, cluster=cluster, slim=True)
    if llm is not None and not quiet:
        with bars("大模型") as progress:
            task = progress.add_task("", total=None)

            def llm_done(i: int, n: int) -> None:
                progress.update(task, completed=i, total=n)

            with _ocr_bar(progress):
                rep = run_batch(files, out_dir, on_llm=llm_done, **kw)
    elif len(files) > 1 and not quiet:
        with bars("处理中", with_description=True) as progress:
            task = progress.add_task("", total=len(files))

            def done(path: Path, _res: ExtractionResult) -> None:
                progress.update(task, advance=1, description=path.name)

            with _ocr_bar(progress):
                rep = run_batch(files, out_dir, on_done=done, **kw)
    elif not quiet:  # one file: a bar only if it holds scanned pages
        with bars("处理中", with_description=True) as progress:
            with _ocr_bar(progress):
                rep = run_batch(files, out_dir, **kw)
    else:
        rep = run_batch(files, out_dir, **kw)
    if not quiet:
        _print_llm(llm)
    if not quiet:
        _print_summary(rep, out_dir)
    return rep


@contextmanager
def _ocr_bar(progress: Any) -> Iterator[None]:
    """Show scanned-page OCR progress (pages done / pages to read) as its own line in ``progress``."""
    if not progress.shown:  # no bar is drawn (not a terminal): nothing to report to
        yield
        return
    from extractor.ocr import pages as ocr_pages

    tasks: dict[str, object] = {}

    def hook(path: str, done: int, total: int) -> None:
        if path not in tasks:
            tasks[path] = progress.add_task(f"扫描页识别 {Path(path).name}（中断后重跑可续接）", total=total)
        progress.update(tasks[path], completed=done, total=total)  # type: ignore[arg-type]
        if done >= total:
            progress.remove_task(tasks.pop(path))  # type: ignore[arg-type]

    ocr_pages.set_progress(hook)
    try:
        yield
    finally:
        ocr_pages.set_progress(None)


def _print_summary(rep: BatchReport, out_dir: Path) -> None:
    n_read = len(rep.results) - len(rep.failures)
    say(f"共 {len(rep.results) + len(rep.skipped)} 个输入：处理 {len(rep.results)} 个文件（成功 {n_read - len(rep.empty)}，"
        f"未找到自评表 {len(rep.empty)}，失败 {len(rep.failures)}），跳过 {len(rep.skipped)} 个；"
        f"识别自评表 {rep.n_forms} 份，表格残片 {rep.n_fragments} 个，"
        f"绩效评价报告 {sum(len(r.reports) for _, r, _ in rep.results)} 份，用时 {rep.seconds:.1f} 秒。")
    if rep.resumed:
        say(f"其中 {rep.resumed} 个文件上次已在此处理完（内容与程序版本未变），沿用其结果；"
            "要全部重新处理请加 --force。")
    rows: list[tuple[str, ...]] = []
    shown = 0
    for path, res, _out in rep.results:
        state = state_of(res)
        if state == "ok" and shown >= 30:
            continue
        n_frag = sum(1 for f in res.forms if f.is_fragment)
        note = res.error or "；".join(res.warnings) or ""
        low = [f.project_name or "残片" for f in res.forms if f.confidence < LOW_READING_CONFIDENCE]
        if low:
            note = (note + "；" if note else "") + f"需人工复核：{'、'.join(low[:3])}{'等' if len(low) > 3 else ''}"
        rows.append((path.name, STATE_TEXT[state], str(len(res.forms) - n_frag), str(n_frag), str(len(res.reports)), note))
        shown += 1
    for path, why in rep.skipped:
        rows.append((path.name or str(path), STATE_TEXT["skipped"], "0", "0", "0", why))
    show_table(("文件", "状态", "自评表", "残片", "报告", "说明"), rows)
    if rep.failures:
        say("以下文件未能处理（其余文件已正常完成）：", "red")
        for path, res in rep.failures:
            say(f"  · {res.error}")
    if rep.skipped:
        say("以下输入已跳过：", "yellow")
        for path, why in rep.skipped:
            say(f"  · {path}：{why}")
    if rep.stopped:
        say(rep.stopped, "red")
    say(f"结果已写入：{out_dir}（每个输入一个JSON，汇总见 _batch.json）")


def _exit_code(rep: BatchReport) -> int:
    """0: every input was read; 1: some input failed or was skipped (the others' results are written)."""
    return 0 if rep.complete else 1


_common = [
    click.argument("paths", nargs=-1, required=True, type=click.Path()),
    click.option("--llm", "use_llm", is_flag=True, help="启用大模型步骤（需配置 EXTRACTOR_LLM_API_KEY 等）"),
    click.option("--llm-config", type=click.Path(dir_okay=False), envvar="EXTRACTOR_LLM_CONFIG",
                 help="大模型配置文件（TOML 的 [llm] 表）"),
    click.option("--llm-scope", type=click.Choice(["uncertain", "all"]), default="uncertain", show_default=True,
                 help="送大模型的范围：uncertain 仅低置信度表和残片，all 全部"),
    click.option("-o", "--out", default="out", show_default=True, help="输出文件夹"),
    click.option("--no-provenance", is_flag=True, help="导出时不附带来源位置信息"),
    click.option("--fail-fast", is_flag=True, help="遇到第一个失败的文件即停止"),
    click.option("-q", "--quiet", is_flag=True, help="不显示进度和汇总"),
    click.option("-j", "--workers", type=click.IntRange(min=0), default=0, envvar="EXTRACTOR_WORKERS",
                 help="并行处理的进程数（默认 0：本机全部核心；1 为逐个处理）"),
    click.option("--force", is_flag=True, help="全部重新处理（默认跳过上次已在同一输出文件夹处理完、内容与程序版本均未变的文件）"),
    click.option("--jsonl", type=click.Path(dir_okay=False, allow_dash=True),
                 help="另把每个文件的结果按完成顺序写成一行 JSON（JSON Lines），“-”为标准输出"),
    click.option("--ray", "ray", metavar="ADDRESS", envvar="EXTRACTOR_RAY",
                 help="在 Ray 集群上处理（需 pip install '.[cluster]'）：local 在本机启动 Ray，auto 加入本机所在集群，"
                      "ray://主机:端口 远程连接；输入文件须在各节点可读的同一路径。-j 为同时处理的文件数（默认集群全部 CPU）"),
]


def common_options(f):  # type: ignore[no-untyped-def]
    """The options every extracting command shares."""
    for opt in reversed(_common):
        f = opt(f)
    return f


class ChineseGroup(click.Group):
    """Click's command group with its error lines in Chinese (click itself prints ``Error: …``)."""

    def main(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        kwargs["standalone_mode"] = False
        try:
            rv = super().main(*args, **kwargs)
        except click.UsageError as exc:
            if exc.ctx is not None:
                click.echo(exc.ctx.get_usage(), err=True)
            click.echo(f"用法错误：{exc.format_message()}（extractor 命令 -h 查看说明）", err=True)
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            click.echo(f"错误：{exc.format_message()}", err=True)
            sys.exit(exc.exit_code)
        except click.Abort:
            click.echo("已中止。", err=True)
            sys.exit(1)
        sys.exit(rv if isinstance(rv, int) else 0)


@click.group(cls=ChineseGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="extractor")
def main() -> None:
    """项目支出绩效自评表抽取与审核工具。"""
    from extractor.core.cores import use_all_cores

    use_all_cores()  # scanned pages on every core (the CLI's entry point is guarded)


@main.command()
@common_options
def extract(paths: tuple[str, ...], use_llm: bool, llm_config: str | None, llm_scope: str, out: str,
            no_provenance: bool, fail_fast: bool, quiet: bool, workers: int, force: bool, jsonl: str | None,
            ray: str | None) -> None:
    """从文本、PDF、Word、Excel文件中抽取全部自评表，每个输入写出一个JSON。"""
    rep = _run(paths, out, not no_provenance, fail_fast, quiet, llm=_llm_step(use_llm, llm_config, llm_scope),
               workers=workers, force=force, jsonl=jsonl, ray=ray)
    sys.exit(_exit_code(rep))


@main.command()
@common_options
@click.option("--config", "config_path", type=click.Path(dir_okay=False), envvar="EXTRACTOR_REVIEW_CONFIG",
              help="审核配置文件（TOML，格式见 extractor/core/review_defaults.toml）")
@click.option("--top", default=20, show_default=True, help="终端显示风险最高的前N份")
@click.option("--second-opinion", is_flag=True, help="对边界情形的“指标值未量化/完成值无实测数据”请大模型给出复核意见（需 --llm）")
def review(paths: tuple[str, ...], use_llm: bool, llm_config: str | None, llm_scope: str, out: str,
           no_provenance: bool, fail_fast: bool, quiet: bool, workers: int, force: bool, jsonl: str | None,
           ray: str | None, config_path: str | None, top: int, second_opinion: bool) -> None:
    """抽取并审核：逐表标注问题、重算得分、按风险排序，输出JSON和排序表（triage.csv）。"""
    from extractor.core.config import load_config
    from extractor.core.errors import ConfigError
    from extractor.review.triage import rank, write_csv

    try:
        cfg = load_config(config_path)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    step = _llm_step(use_llm, llm_config, llm_scope)

    def transform(r):  # type: ignore[no-untyped-def]
        if second_opinion and step is not None:
            import asyncio

            from extractor.llm.opinion import second_opinions
            asyncio.run(second_opinions(r.forms, step.cfg, client=step.client, usage=step.usage))
        return r

    rep = _run(paths, out, not no_provenance, fail_fast, quiet, transform=transform if second_opinion else None,
               llm=step, config=cfg, workers=workers, force=force, jsonl=jsonl, ray=ray)
    rows = rank([(p.name, r) for p, r, _ in rep.results if r.status == "ok"])
    csv_path = Path(out) / "triage.csv"
    write_csv(rows, csv_path)
    if not quiet and rows:
        from extractor.review.triage import COMPACT
        show_table(COMPACT, [r.compact(k) for k, r in enumerate(rows[:top], start=1)],
                   title=f"风险排序（共{len(rows)}份，显示前{min(top, len(rows))}份）")
        say(f"完整排序表：{csv_path}（可用Excel打开）")
    flagged = [(p.name, r, fl) for p, res, _ in rep.results for r in res.reports for fl in r.flags]
    if not quiet and flagged:
        show_table(("文件", "报告", "意见"), [(name, r.project or r.unit or r.title or "", fl.message)
                                            for name, r, fl in flagged[:top]],
                   title=f"绩效评价报告的审核意见（{len(flagged)}处）")
    sys.exit(_exit_code(rep))


@main.command(name="import")
@click.argument("out_dir", type=click.Path(exists=True, file_okay=False))
@click.option("--db", envvar="EXTRACTOR_DB", default="out/review.db", show_default=True,
              help="审核数据库（与审核界面的 EXTRACTOR_DB 相同）")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), envvar="EXTRACTOR_REVIEW_CONFIG",
              help="审核配置文件（仅用于 extract 的输出：导入时补做审核）")
@click.option("--who", default="", help="导入人（写入导入记录）")
def import_cmd(out_dir: str, db: str, config_path: str | None, who: str) -> None:
    """把一次批处理的输出文件夹（extract/review -o 的结果，本机或 Ray 集群）导入审核数据库。

    只由本进程写数据库，批处理的各工作进程从不同时写 SQLite；已有的人工更正与意见保留。"""
    from extractor.core.config import load_config
    from extractor.core.errors import ConfigError
    from extractor.pipeline.importer import import_batch
    from extractor.pipeline.process import reviewer
    from extractor.store.database import Store

    folder = Path(out_dir)
    if not (folder / "_batch.json").is_file():
        raise click.ClickException(f"{folder} 中没有 _batch.json：请指定 extractor review -o 的输出文件夹")
    try:
        cfg = load_config(config_path)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    Path(db).parent.mkdir(parents=True, exist_ok=True)
    store = Store(db, rereview=reviewer(cfg))
    t = time.perf_counter()
    with bars("导入数据库") as progress:
        task = progress.add_task("", total=None)
        iid = import_batch(store, folder, cfg, who=who,
                           on_done=lambda i, n: progress.update(task, completed=i, total=n))
    items = store.import_items(iid)
    n = {s: sum(1 for r in items if r["state"] == s) for s in ("ok", "empty", "failed", "skipped")}
    forms = sum(r["forms"] or 0 for r in items)
    say(f"已导入 {db}：{len(items)} 个输入，读取 {n['ok']} 个（{forms} 份自评表），未找到自评表 {n['empty']} 个，"
        f"失败 {n['failed']} 个，跳过 {n['skipped']} 个；用时 {time.perf_counter() - t:.1f} 秒。"
        "启动审核界面时设 EXTRACTOR_DB 为该文件即可看到。")
    for r in items:
        if r["state"] == "failed" and r["error"] and r["error"].startswith("导入批处理结果时出错"):
            say(f"  · {r['name']}：{r['error']}")


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("-o", "--out", default="draft.md", show_default=True, type=click.Path(dir_okay=False),
              help="输出文件：.md 或 .docx")
@click.option("--accepted-only", is_flag=True, help="只使用人工复核中“采纳”或“修改”的问题")
def draft(paths: tuple[str, ...], out: str, accepted_only: bool) -> None:
    """根据审核结果（review 输出的JSON或其所在文件夹）起草“存在的问题”和“建议”。"""
    from extractor.draft.sections import load_reports, load_reviewed, write_draft

    out_path = Path(out)
    if out_path.suffix.lower() not in (".md", ".docx"):
        raise click.ClickException("输出文件须为 .md 或 .docx")
    damaged: list[tuple[Path, str]] = []
    forms = load_reviewed([Path(p) for p in paths], damaged)
    reports = load_reports([Path(p) for p in paths])
    for f, why in damaged:
        say(f"提示：已跳过损坏的文件 {f}（{why}），其余文件照常起草。")
    if not forms and not reports:
        raise click.ClickException("没有读到任何自评表或绩效评价报告。请先运行 extractor review，再对其输出文件夹起草。")
    if not any(f.get("flags") for f in forms + reports):
        say("提示：输入中没有审核意见（flags）。请确认输入是 extractor review 的输出。")
    write_draft(forms, out_path, accepted_only, reports)
    say(f"已根据{len(forms)}份自评表" + (f"、{len(reports)}份绩效评价报告" if reports else "")
        + f"的审核结果写出草稿：{out_path}")


@main.command(name="eval")
@click.argument("sets", nargs=-1, type=click.Path(exists=True, file_okay=False))
@click.option("--formats", default="all", show_default=True,
              help="评测的文件形式：orig（原始输入）及 docx、xlsx、pdf、lines.pdf / boxes.pdf / sheet.pdf（同一PDF的"
                   "表格线按Word、逐格转换器、电子表格的画法重画）、md（管道表格）、flat.txt（整表压成一行）、"
                   "scan.pdf（模拟扫描件，需OCR，较慢，不含在all中），均由标准答案渲染；逗号分隔，或 all")
@click.option("-v", "--verbose", is_flag=True, help="显示逐字段统计和所有不一致之处")
@click.option("--json", "json_out", type=click.Path(dir_okay=False), help="把结果另存为JSON")
def eval_cmd(sets: tuple[str, ...], formats: str, verbose: bool, json_out: str | None) -> None:
    """在评测集上运行抽取并按 score_export.py 的口径打分（逐文件及总体）。"""
    from evalkit.harness import RENDERABLE, SLOW, evaluate, find_sets
    from evalkit.metrics import Score
    from extractor.core.records import LOW_CONFIDENCE, LOW_CONFIDENCE_FIGURE

    fmts = ("orig", *RENDERABLE) if formats == "all" else tuple(x.strip() for x in formats.split(",") if x.strip())
    bad = [f for f in fmts if f not in ("orig", *RENDERABLE, *SLOW)]
    if bad:
        raise click.ClickException(f"不支持的形式：{bad}；可选 orig、{'、'.join(RENDERABLE)}")
    set_dirs = [Path(s) for s in sets] or find_sets()
    results = evaluate(set_dirs, fmts)
    total = Score()
    by_fmt: dict[str, Score] = {}
    rows = []
    for case, fmt, s in results:
        total.add(s)
        by_fmt.setdefault(fmt, Score()).add(s)
        name = f"{case.set_name}/{case.input_path.name}" + ("" if fmt == "orig" else f" → {fmt}")
        if s.report_cases:  # a narrative-report gold file (eval_sets/reports)
            say(f"{name}: {s.report_line()}")
        elif s.forms_gold == 0:  # a report or a target table: right when no self-evaluation form is reported
            say(f"{name}: 无自评表（报告或目标表）"
                + ("，正确" if s.forms_pred == 0 else f"，误报自评表 {s.forms_pred} 份"))
        else:
            say(f"{name}: {s.summary_line()}")
        if verbose:
            say(s.report())
            for m in s.mismatches[:50] + s.flag_misses[:50] + s.report_misses[:50]:
                say(f"    {m}")
        rows.append({"set": case.set_name, "file": case.input_path.name, "format": fmt,
                     "field_accuracy": round(s.field_accuracy, 4), "rows_f1": round(s.rows_prf[2], 4),
                     "ocr_wrong_marked": s.wrong_marked, "mismatches": s.mismatches,
                     **({"report_fields": round(s.report_accuracy, 4), "report_misses": s.report_misses}
                        if s.report_cases else {})})
    by_set: dict[str, Score] = {}
    for case, fmt, s in results:
        if fmt == "orig":
            by_set.setdefault(case.set_name, Score()).add(s)
    if len(by_set) > 1:
        say("—— 按评测集汇总（原始输入）——")
        for name, s in by_set.items():  # a set of narrative reports has no form fields to score
            say(f"{name}: {s.report_line() if s.report_cases and not s.forms_gold else s.summary_line()}")
    say("—— 按文件形式汇总 ——")
    for fmt, s in by_fmt.items():
        say(f"{fmt}: {s.summary_line()}")
        marked, wrong = s.wrong_marked
        if wrong or fmt in SLOW:
            say(f"{fmt}: OCR读错的值 {wrong} 处，其中已标“待核”（文字置信度<{LOW_CONFIDENCE}、数字<{LOW_CONFIDENCE_FIGURE}）{marked} 处")
    if total.report_cases:
        say("—— 绩效评价报告（叙述性报告）——")
        say(total.report_line())
    say("—— 总体 ——")
    say(total.report())
    if total.codes:
        say("—— 各问题代码的精确率/召回率（对照标准答案中的 problems）——")
        say(total.code_report())
    if json_out:
        Path(json_out).write_text(json.dumps({"cases": rows, "overall": total.summary_line(),
                                              "reports": total.report_line() if total.report_cases else None}, ensure_ascii=False,
                                             indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
