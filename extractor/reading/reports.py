"""Read narrative 绩效评价报告 offline: find each report in a document and read its figures and sections.

Where a report starts: a title (``…绩效评价报告``, ``…自评报告``, ``…整改报告``, ``…自评综述``; broken over
two or three short lines, or glued to the cover fields after it), a report cover (``评价类型`` /
``评价方式`` / ``项目名称`` / ``项目单位`` … fields), or the sentence ``现将…报告如下``; a text without
any of these that still runs in numbered sections about 绩效 / 预算 / 资金 is one report too. Titles
with nothing but page furniture between them (a page title, a file name, a table of contents) are
one report. Text inside the forms the reading core found is left out; traditional characters and a
mirror site's pinyin are folded for matching, values keep the characters as printed.

From each report:
- kind, unit, project and year from its title, its cover fields or its opening sentence;
- figures from prose (``全年预算数 2608.92 万元``, ``预算执行率为 95.80%``, ``综合得分 80.56 分，等级为
  “良”``), amounts in 万元 (元 and 亿元 converted, a conversion from 元 noted);
- the projects it lists with amounts (a ``项目名称 | 金额`` table, ``包括X 36.3万元，Y 1万元``);
- the items of its 存在的问题 and 建议 / 改进措施 / 整改措施 sections, cut at their numbers
  (一、 （一） 1. （1） ①, 一是 …, full-width and unbracketed variants alike).

Every value keeps the page and line it was read from.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from extractor.core.document import Document
from extractor.core.figures import in_wan
from extractor.core.lazy_regex import lazy_compile
from extractor.core.records import Report, ReportProject, SourceRef
from extractor.core.vocabulary import fold_with_map, strip_pinyin

_CN = "一二三四五六七八九十"
# heading levels, outermost first (matched on the folded line: NFKC, no white space)
_LEVELS = (
    lazy_compile(rf"^第[{_CN}]+(?:部分|章|节)"),
    lazy_compile(rf"^[{_CN}]+[、.,](?!\d)"),
    lazy_compile(rf"^\([{_CN}]+\)[、.]?"),
    lazy_compile(r"^\d{1,2}(?:[、,]|\.(?!\d))"),
    lazy_compile(r"^\(\d{1,2}\)[、.]?"),
    lazy_compile(r"^\d{1,2}(?!\d)"),  # a circled number (①) as NFKC leaves it: only where _Line.level says so
)
_CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮"
_ENUM = lazy_compile(rf"(?:^|(?<=[。;!?]))\s*(?:[{_CN}]是|第[{_CN}],)")  # 一是… 二是… (on NFKC text)
_TITLE_END = r"(?:绩效|自评|评价|整改)[^:|,。;>]{0,16}?(?:报告|综述)"
_TITLE = lazy_compile(_TITLE_END + r"(?:\(\d{4}(?:-\d{4})?年度?\))?$")
_COVER_LABELS = ("评价类型", "评价方式", "评价机构", "评价单位", "评价年度", "评价时间", "报告日期", "填报日期", "填报时间",
                 "委托单位", "项目名称", "项目单位", "主管部门", "实施单位", "预算部门", "部门(单位)名称", "单位名称",
                 "项目负责人")
_REPORT_ONLY_LABELS = ("评价类型", "评价方式", "评价机构", "评价单位", "评价年度", "评价时间", "报告日期", "委托单位",
                       "部门(单位)名称")
_COVER = lazy_compile("(" + "|".join(re.escape(x) for x in _COVER_LABELS) + r")(?:单位)?(?:\((?:公章|签章|盖章)\))?[:]?")
_TITLE_GLUED = lazy_compile(r"([\u4e00-\u9fff][\u4e00-\u9fff\d()]{1,50}?" + _TITLE_END + r")(?:\(\d{4}(?:-\d{4})?年度?\))?"
                          r"(?=" + "|".join(re.escape(x) for x in _COVER_LABELS) + ")")
_TITLE_LEAD = lazy_compile(r"([\u4e00-\u9fff][^,。:;|]{2,40}?" + _TITLE_END + r"):")
_TITLE_IN_TEXT = lazy_compile(r"现将(.{4,80}?(?:报告|综述|总结|情况))(?:如下|报告如下)|(?:县级|市级)?(自评情况)报告如下")
_ASSESSED = lazy_compile(r"对(.{2,60}?)(?:开展|进行|实施)了?(?:绩效)?(?:自评|评价|绩效评价)")
_FURNITURE = lazy_compile(r"[>|]|您现在的位置|当前位置|首页|发布时间|浏览|字体|上传|下载|第\d+页|资源|版权|举报|\.docx?$|\.pdf$")
_TOC = lazy_compile(r"(?:-\s*\d+\s*-|\t\s*\d+)\s*$")
_REPORT_WORDS = lazy_compile(r"绩效|预算|资金|评价|自评|项目")
_PROBLEM_HEAD = lazy_compile(r"问题|不足")
_SUGGEST_HEAD = lazy_compile(r"建议|改进|整改措施|下一步|今后(?:工作)?(?:打算|计划|方向)|完善措施|对策")
_NOT_SECTION = lazy_compile(r"整改情况|落实情况|问题整改|以前年度|上年度")

_UNIT_SUFFIX = ("委员会", "管理局", "办公室", "中心", "局", "委", "政府", "政协", "人大常委会", "法院", "检察院",
                "医院", "卫生院", "学校", "大学", "学院", "中学", "小学", "幼儿园", "纪念馆", "博物馆", "图书馆", "文化馆",
                "研究所", "所", "站", "队", "院", "馆", "厅", "公司", "联合会", "协会", "工会", "妇联", "团委", "办事处")
_REGION = lazy_compile(r"^(?:[\u4e00-\u9fff]{1,8}?(?:省|自治区|市|州|盟|地区|县|区|旗|镇|乡|街道))+")
_GENERIC_UNIT = lazy_compile(r"^各|等|全省|全市|全县|\d+个|各地")
_YEAR = lazy_compile(r"((?:19|20)\d{2})(?:-(?:19|20)?\d{2})?年(?:度)?")
_AMOUNT = r"(\d[\d,]*(?:\.\d+)?)(亿元|万元|元)"
_SEP = r"(?:共计?|合计|总计|总额|总体|为|是|达|约|了|:)*"
_MONEY = {
    "budget_total": lazy_compile(
        r"(全年预算数|调整(?:后)?(?:项目)?预算(?:数|后项目预算)?|预算总额|年度预算(?:数|资金)?|全年预算|项目预算(?:批复)?|"
        r"预算批复|批复预算|预算数|预算安排(?:资金)?|安排(?:资金|预算)|计划安排资金|计划投资|总投资|下达(?:资金|预算|补助资金)?|"
        r"资金总额|项目资金)" + _SEP + _AMOUNT),
    "executed_total": lazy_compile(
        r"(全年执行数|执行数|实际支出(?:资金)?|资金总体支出|总体支出|总支出|支出合计|支出总计|支出总额|累计支出|已完成拨付|"
        r"实际使用|使用(?:预算)?资金|实际支出金额|支出)" + _SEP + _AMOUNT),
    "income_total": lazy_compile(r"(收入)(?:合计|总计|总额)?" + _SEP + _AMOUNT),
}
_LABELLED_AMOUNT = {
    "budget_total": lazy_compile(r"(计划安排资金|预算资金|预算数|项目资金)\(万元\)[|:]*(\d[\d,]*(?:\.\d+)?)(?![\d.,])"),
    "executed_total": lazy_compile(r"(实际支出(?:资金)?|支出资金|执行数)\(万元\)[|:]*(\d[\d,]*(?:\.\d+)?)(?![\d.,])"),
    "income_total": lazy_compile(r"(收入合计)\(万元\)[|:]*(\d[\d,]*(?:\.\d+)?)(?![\d.,])"),
}
_PART_BEFORE = lazy_compile(r"(?:基本|人员|公用|项目|其他|其中|拨款|经营|事业|上级|补助|中央|省级|市级|县级|本级)$")
_RATE = lazy_compile(r"(?:预算)?执行率" + _SEP + r"(\d+(?:\.\d+)?)%|完成(?:全年)?预算的(\d+(?:\.\d+)?)%")
_SCORE = lazy_compile(r"(综合|评价|最终|总|自评|平均|考核)?(?:得分|评分|分数|分)" + _SEP + r"(\d+(?:\.\d+)?)分")
_GRADE = lazy_compile(r"(自评)?(?:等级|等次|级别|评价结论|自评结论|评价结果|评定|评级)" + _SEP +
                    r"[“\"「『]?(优秀|优|良好|良|中等|中|合格|及格|较差|差|不合格)")
_COMPLETE = lazy_compile(r"[^。;]{0,30}(?:目标|任务|指标)(?:均|已|全部|均已|已全部|全面|圆满|顺利)+(?:完成|实现|达成)[^。;]{0,20}")
_LIST_LEAD = lazy_compile(r"包括|分别为|分别是|下达了|用于(?:实施)?|具体(?:情况)?如下|安排|其中:")
_MASKED = r"点击查看>*|\(略\)|\*{2,}|X{2,}"
_LISTED = lazy_compile(r"[“\"]?([^,、;。:“”\"()]{2,50}?)[”\"]?(?:到位|下达)?(?::|\()?(?:(\d[\d,]*(?:\.\d+)?)|" + _MASKED +
                     r")(亿元|万元|元)\)?")
_AMOUNT_FOR = lazy_compile(r"(\d[\d,]*(?:\.\d+)?)(亿元|万元|元)(?:资金)?(?:下拨|拨付|安排)?用于(?:实施)?“?([^,，。;；:“”]{2,60}?)”?(?=[,，。;；]|$)")
_QUOTED_AMOUNT = lazy_compile(r"[“\"]([^“”\"]{4,60})[”\"]\((\d[\d,]*(?:\.\d+)?)(万元|元)\)")
_NOT_PROJECT = lazy_compile(r"^(?:其中|基本支出|人员经费|公用经费|项目支出|财政拨款|收入|支出|合计|总计|共计?|资金|预算|中央资金|"
                          r"省级资金|市级资金|县级资金|本级资金|上年结转|结转|结余|余额|同比|增加|减少|调减|调增|计划|实际)")
_PROJECT_WORD = lazy_compile(r"经费|项目|资金|补助|补贴|工程|建设|费|款|奖励|专项|工作|服务|保险|购置|改造")


@dataclass
class _Line:
    raw: str  # the page's line as printed
    page: int
    line: int  # 1-based in its page
    folded: str  # NFKC, simplified, no pinyin, no white space
    fmap: list[int] = field(default_factory=list)  # folded index -> raw index
    nfkc: str = ""
    heading: bool = False  # a section label printed inside a paragraph (``…。下一步改进措施：…``)

    def value(self, a: int, b: int) -> str:
        """The raw text behind folded[a:b], as printed (NFKC, pinyin dropped, spaces squeezed)."""
        if a >= b or not self.fmap:
            return ""
        text = self.raw[self.fmap[a]:self.fmap[b - 1] + 1]
        return " ".join(strip_pinyin(unicodedata.normalize("NFKC", text)).split())

    @property
    def level(self) -> int | None:
        if self.heading:
            return 1
        if self.raw.lstrip()[:1] in _CIRCLED:  # NFKC makes ① a plain 1
            return len(_LEVELS) - 1
        return level(self.folded)

    def part(self, a: int, b: int, heading: bool = False) -> "_Line":
        """The piece folded[a:b] of this line as a line of its own."""
        return _Line(self.raw, self.page, self.line, self.folded[a:b], self.fmap[a:b], self.value(a, b), heading)


def level(folded: str) -> int | None:
    """The heading level a folded line opens with (0 outermost), or None."""
    for k, pat in enumerate(_LEVELS[:-1]):
        if pat.match(folded):
            return k
    return None


def _lines(doc: Document, covered: dict[int, list[tuple[int, int]]]) -> list[_Line]:
    """The document's lines outside the forms' text, each traced to its page and line."""
    out: list[_Line] = []
    for page in doc.pages:
        pos = 0
        spans = sorted(covered.get(page.number, []))
        first = 0  # spans ending before the current line are passed once (lines come in order)
        for n, raw in enumerate(page.text.split("\n"), 1):
            start, end = pos, pos + len(raw)
            pos = end + 1
            if not raw.strip():
                continue
            while first < len(spans) and spans[first][1] <= start:
                first += 1
            inside = 0
            for a, b in spans[first:]:
                if a >= end:
                    break
                inside += max(0, min(end, b) - max(start, a))
            if inside > 0.5 * len(raw.strip()):
                continue
            folded, fmap = fold_with_map(raw)
            if folded:
                out.append(_Line(raw, page.number, n, folded, list(fmap), unicodedata.normalize("NFKC", raw).strip()))
    return out


def _text(lines: list[_Line]) -> tuple[str, list[tuple[int, int]]]:
    """The lines' folded text joined, and where each line starts in it."""
    parts, at, n = [], [], 0
    for k, x in enumerate(lines):
        at.append((n, k))
        parts.append(x.folded)
        n += len(x.folded)
    return "".join(parts), at


def _line_at(at: list[tuple[int, int]], pos: int) -> int:
    k = 0
    for start, idx in at:
        if start > pos:
            break
        k = idx
    return k


# ---------------------------------------------------------------------------------------- where reports are


def _title_of(lines: list[_Line], k: int) -> tuple[int, str] | None:
    """The title starting at or ending on line k: (first line index, title text), or None."""
    x = lines[k]
    f = re.sub(r"\.(?:docx?|pdf|wps)$", "", x.folded)
    if m := _TITLE_GLUED.search(f):  # a title the converter glued to the cover fields after it
        return k, x.value(m.start(1), m.end(1))
    if (m := _TITLE_LEAD.match(f)) and len(f) > 70:  # ``…项目绩效自评综述:根据年初设定的绩效目标,…``
        return k, x.value(m.start(1), m.end(1))
    if k > 0 and len(f) <= 8 and re.fullmatch(r"(?:评价|自评)?(?:报告|综述)", f) and (prev := lines[k - 1]).page == x.page \
            and len(prev.folded) <= 60 and not re.search(r"[。,:;|>]", prev.folded) and _TITLE.search(prev.folded + f):
        return k - 1, prev.nfkc + x.nfkc  # a title wrapped before its last word (``…绩效评价`` / ``报告``)
    if len(f) > 70 or _FURNITURE.search(x.folded.replace(".docx", "").replace(".doc", "").replace(".pdf", "")) \
            or not _TITLE.search(f.rstrip("。:")) or (x.level is not None and not re.search(r"报告$", f)):
        return None
    if x.level is not None and re.search(r"出具|撰写|形成|提交|报送", f):
        return None
    first, text = k, x.nfkc
    for back in (1, 2):  # a title broken over short lines (``古田县城市管理局`` / ``2020年…项目`` / ``支出绩效评价报告``)
        if k - back < 0:
            break
        prev = lines[k - back]
        y = _YEAR.search(fold_with_map(text)[0])
        if y and (y.start() > 0 or not _UNIT_SUFFIX_RE.search(prev.folded)):
            break  # the title already names its unit (before its year), or the line above is not one
        if len(prev.folded) > 30 or re.search(r"[。,:;|>]", prev.folded) or prev.level is not None \
                or _FURNITURE.search(prev.folded) or _TITLE.search(prev.folded) or _COVER.match(prev.folded) \
                or prev.page != x.page or prev.line < lines[first].line - 3:
            break
        first, text = k - back, prev.nfkc + text
    return first, re.sub(r"\.(?:docx?|pdf|wps)$", "", text)


def _cover_at(lines: list[_Line], k: int) -> bool:
    """Whether line k opens a report cover: two cover fields in a few lines, one of them a report's own."""
    seen: set[str] = set()
    for x in lines[k:k + 8]:
        seen.update(m.group(1) for m in _COVER.finditer(x.folded))
    return bool(_COVER.match(lines[k].folded)) and len(seen) >= 2 and bool(seen & set(_REPORT_ONLY_LABELS))


def _body(lines: list[_Line], a: int, b: int) -> bool:
    """Whether lines a..b hold a report's body (prose), not only page furniture, a cover or contents."""
    prose = sum(len(x.folded) for x in lines[a:b] if re.search(r"[。,;]", x.folded) and not _TOC.search(x.raw)
                and not _FURNITURE.search(x.folded) and not _COVER.match(x.folded))
    return prose > 150


def _starts(lines: list[_Line]) -> list[tuple[int, str | None]]:
    """(line index, title) of every report in order."""
    found: list[tuple[int, str | None]] = []
    for k in range(len(lines)):
        hit = _title_of(lines, k)
        start, title = hit if hit else (k, None)
        if hit is None and _cover_at(lines, k) and not (found and not _body(lines, found[-1][0], k)):
            hit = (k, None)
        if hit is None and not found and (m := _TITLE_IN_TEXT.search(lines[k].folded)):
            hit, title = (k, None), (lines[k].value(*m.span(1)) if m.group(1) else None)
        if hit is None:
            continue
        if found and not _body(lines, found[-1][0], start):  # a page title, a file name, a cover: one report
            found[-1] = (found[-1][0], max((t for t in (found[-1][1], title) if t), key=len, default=None))
        elif not found or start > found[-1][0]:
            found.append((start, title))
    if not found and _untitled(lines):
        found.append((0, None))
    return found


def _untitled(lines: list[_Line]) -> bool:
    heads = [x for x in lines if x.level in (1, 2) and _REPORT_WORDS.search(x.folded)]
    prose = sum(len(x.folded) for x in lines if len(x.folded) > 40 and re.search(r"[。,]", x.folded))
    return len(heads) >= 2 and prose >= 300


# ---------------------------------------------------------------------------------------- what a report says


def _kind(title: str | None, cover: dict[str, str], opening: str) -> str:
    t = "".join(fold_with_map(title)[0] if title else "") + cover.get("评价方式", "") + (opening[:300] if not title else "")
    if "整改" in t:
        return "rectification"
    if re.search(r"部门整体|单位整体|整体支出|部门支出", t):
        return "department"
    if "自评" in t:
        return "self"
    return "evaluation"


def _split_title(t: str, kind: str) -> tuple[str | None, str | None]:
    """The unit and the project a title (or an ``对…进行评价`` phrase) names: ``2021年西平县交通运输局
    县界道路项目绩效评价报告`` → (西平县交通运输局, 县界道路项目)."""
    t = re.sub(r"[“”\"《》\s]", "", unicodedata.normalize("NFKC", t))
    t = re.sub(r"^(?:关于|附件\d*[:]?)", "", t)
    t = re.sub(r"\((?:\d{4}[-\d]*年度?)\)$", "", t)
    while (u := re.sub(r"(?:报告|综述|总结|情况说明|自评价|自评|评价|绩效|支出|单位|的)$", "", t)) != t:
        t = u
    unit, rest = None, t
    y = _YEAR.search(t)
    head, tail = (t[:y.start()], t[y.end():]) if y else ("", t)
    if head and head.endswith(_UNIT_SUFFIX):  # ``任弼时纪念馆2020年度…``
        unit, rest = head, tail
    else:
        rest = tail if y and not head else t
        best = None
        for suffix in _UNIT_SUFFIX:
            for m in re.finditer(re.escape(suffix), rest):
                cand = rest[:m.end()]
                if m.end() >= len(rest) or len(cand) < 3 or re.search(r"项目|资金|经费|工程|专项|服务", cand):
                    continue
                r = _REGION.match(cand)
                if r and m.end() <= r.end():  # only a region (``…市``), no unit
                    continue
                best = cand if best is None or len(cand) > len(best) else best
        if best:
            unit, rest = best, rest[len(best):]
    rest = re.sub(r"^(?:年度|度)", "", _YEAR.sub("", rest, count=1)).strip("、,")
    if not unit and (r := _REGION.match(rest)) and r.end() < len(rest):
        rest = rest[r.end():]
    if kind == "department" or re.fullmatch(r"(?:部门|单位)?(?:整体)?(?:支出)?(?:项目支出|项目|财政支出项目|财政项目支出|财政)?", rest):
        return unit, None
    return unit, rest or None


def _cover_fields(lines: list[_Line]) -> dict[str, str]:
    """A report cover's fields (``项目名称：…``, ``项目单位 …``), label → value as printed."""
    out: dict[str, str] = {}
    for x in lines[:40]:
        ms = list(_COVER.finditer(x.folded))
        for n, m in enumerate(ms):
            if m.start() > 0 and n == 0 and not _TITLE_GLUED.search(x.folded[:m.start()] + m.group(1)) \
                    and x.folded[m.start() - 1] not in ":)" and not re.search(_TITLE_END + r"(?:\(.*\))?$", x.folded[:m.start()]):
                continue
            end = ms[n + 1].start() if n + 1 < len(ms) else len(x.folded)
            value = x.value(m.end(), end).strip(" :：|")
            if value and m.group(1) not in out and len(value) <= 60:
                out[m.group(1)] = value
    return out


def _strip_region(name: str) -> str:
    folded, fmap = fold_with_map(name)
    r = _REGION.match(folded)
    if r and r.end() < len(folded) and not _UNIT_SUFFIX_RE.match(folded[r.end():]):
        return name[fmap[r.end()]:].strip() if r.end() < len(fmap) else name
    return name


_UNIT_SUFFIX_RE = lazy_compile("(?:" + "|".join(_UNIT_SUFFIX) + ")$")


def _read_report(lines: list[_Line], title: str | None) -> Report:
    text, at = _text(lines)
    cover = _cover_fields(lines)
    kind = _kind(title, cover, text)
    rep = Report(kind=kind, title=title)  # type: ignore[arg-type]
    rep.lines = (lines[0].line, lines[-1].line)
    unit, project = _split_title(title, kind) if title else (None, None)
    if title and kind != "department" and project is None and not cover.get("项目名称") \
            and re.search(r"部门概况|部门基本情况|部门职责|机构设置|单位概况|部门整体", text[:1500]):
        kind = rep.kind = "department"  # a unit's whole-year report: a title naming no project, a body on the unit
    if unit is None or project is None:
        m = _ASSESSED.search(text[:1500])
        if m:
            u2, p2 = _split_title(m.group(1), kind)
            unit, project = unit or u2, project or (p2 if kind != "department" else None)
    for label in ("项目单位", "实施单位", "预算部门", "部门(单位)名称", "单位名称", "主管部门"):
        if unit is None and (v := cover.get(label)) and not _GENERIC_UNIT.search(v):
            unit = v
    if unit is None:
        unit = _publisher(lines) or _subject(lines)
    if cover.get("项目名称") and kind != "department":
        project = _strip_region(cover["项目名称"])
    if project and kind != "department" and (m := re.search(r"\(([^()]{4,40}(?:项目|资金|经费))\)", text[:600])) \
            and not re.search(r"项目|资金|经费|专项", project):
        project = m.group(1)
    rep.unit, rep.project = unit, project
    if cover.get("评价年度") and (yy := re.search(r"(?:19|20)\d{2}", cover["评价年度"])):
        rep.year = int(yy.group(0))
    else:
        rep.year = _year(fold_with_map(title)[0] if title else "") or _year(text[:1500])
    first = lines[0]
    for key in ("unit", "project", "year"):
        if getattr(rep, key) is not None:
            rep.sources[key] = SourceRef(page=first.page, line=first.line)
    _figures(rep, lines, text, at)
    _sections(rep, [p for x in lines for p in _inline_heads(x)])
    _projects(rep, lines)
    if (m := _COMPLETE.search(text)) is not None:
        rep.claims_complete = m.group(0).strip(",")
    return rep


def _year(text: str) -> int | None:
    """The budget year a text names: a ``2023年度`` first, else a year that is not part of a date
    (``2021年07月12日``), nor a document's number or a 填报/报告 date."""
    years = [m for m in _YEAR.finditer(text) if not re.match(r"\d{1,2}月", text[m.end():m.end() + 3])
             and not re.search(r"(?:日期|时间|〔|\[)[:]?$", text[max(0, m.start() - 5):m.start()])]
    best = next((m for m in years if "年度" in m.group(0)), years[0] if years else None)
    if best is None:  # only dates: the first that is not when the report was filed (``项目起止时间 2021年1月起``)
        best = next((m for m in _YEAR.finditer(text)
                     if not re.search(r"(?:报告|填报|发布|印发)(?:日期|时间)?[:]?$", text[max(0, m.start() - 6):m.start()])), None)
    return int(best.group(1)) if best else None


_SUBJECT = lazy_compile(r"^((?![我本该其])[\u4e00-\u9fff]{1,20}?(?:" + "|".join(_UNIT_SUFFIX) + r"))(?:坚持|认真|贯彻|始终|紧紧|围绕|"
                      r"按照|根据|严格|结合|牢牢|全面|深入|积极|于\d{4}年)")


def _subject(lines: list[_Line]) -> str | None:
    """The unit a paragraph opens with (``县政协坚持按照…``, ``区政府办公室贯彻落实…``)."""
    for x in lines[:60]:
        if (m := _SUBJECT.match(x.folded)) is not None:
            return x.value(m.start(1), m.end(1))
    return None


def _publisher(lines: list[_Line]) -> str | None:
    """The unit a page names as its publisher (``发布机构 | 枞阳县卫生健康委员会``, ``来源:旌德县农业农村水利局``)."""
    for x in lines[:12]:
        m = re.search(r"(?:发布机构|来源|发布单位)[:|]*([\u4e00-\u9fff()]{3,30}?)(?=[|]|浏览|发布|作者|时间|$)", x.folded)
        if m and _UNIT_SUFFIX_RE.search(m.group(1)) and _REGION.match(m.group(1)):
            return x.value(m.start(1), m.end(1))
    return None


def _figures(rep: Report, lines: list[_Line], text: str, at: list[tuple[int, int]]) -> None:
    def ref(pos: int) -> SourceRef:
        x = lines[_line_at(at, pos)]
        return SourceRef(page=x.page, line=x.line)

    for key, pat in _MONEY.items():
        found = [m for m in pat.finditer(text) if not _PART_BEFORE.search(text[max(0, m.start() - 4):m.start()])]
        found += [m for m in _LABELLED_AMOUNT[key].finditer(text)]  # ``计划安排资金(万元)|700``
        if not found:
            continue
        found.sort(key=lambda m: m.start())
        # the adjusted (全年) budget over the 年初 one, when both are printed
        m = next((x for x in found if key == "budget_total" and re.search(r"调整|全年", x.group(1))), found[0])
        unit = m.group(3) if m.re.groups >= 3 else "万元"
        if unit == "元":
            rep.converted_from_yuan.append(key)
        setattr(rep, key, in_wan(m.group(2), unit))
        rep.sources[key] = ref(m.start())
    if (m := _RATE.search(text)) is not None:
        rep.execution_rate = float(m.group(1) or m.group(2))
        rep.sources["execution_rate"] = ref(m.start())
    for m in _SCORE.finditer(text):
        value = float(m.group(2))
        if value > 100 or re.search(r"(?:分值|权重|满分|总分为?|计|扣|得)$", text[max(0, m.start() - 3):m.start()]):
            continue
        own = m.group(1) == "自评" and rep.kind not in ("self", "department")
        key = "self_score" if own else "total_score"
        if getattr(rep, key) is None and (m.group(1) or "得分" in m.group(0) or "评分" in m.group(0)):
            setattr(rep, key, value)
            rep.sources[key] = ref(m.start())
    for m in _GRADE.finditer(text):
        own = bool(m.group(1)) and rep.kind not in ("self", "department")
        key = "self_grade" if own else "grade"
        if getattr(rep, key) is None:
            setattr(rep, key, m.group(2))
            rep.sources[key] = ref(m.start(2))


_INLINE_HEAD = lazy_compile(r"(?:^|(?<=[。;!?]))([^。,;:!?]{2,14}?(?:问题|不足|建议|措施|意见)[^。,;:!?]{0,6}?):")


def _inline_heads(x: _Line) -> list[_Line]:
    """A paragraph that runs its sections on (``…。发现的主要问题及原因:一是…。下一步改进措施:…``) cut
    at those labels, each label a heading line of its own."""
    cuts = [m for m in _INLINE_HEAD.finditer(x.folded) if x.level is None and len(x.folded) > m.end()]
    if not cuts:
        return [x]
    out = [x.part(0, cuts[0].start())] if cuts[0].start() > 0 else []
    for n, m in enumerate(cuts):
        stop = cuts[n + 1].start() if n + 1 < len(cuts) else len(x.folded)
        out.append(x.part(m.start(1), m.end(), heading=True))
        out.append(x.part(m.end(), stop))
    return [p for p in out if p.folded]


def _sections(rep: Report, lines: list[_Line]) -> None:
    """The items of the 存在的问题 and 建议 sections."""
    heads = [(k, x.level) for k, x in enumerate(lines) if x.level is not None and not _TOC.search(x.raw)]
    for n, (k, lv) in enumerate(heads):
        name = re.split(r"[。:]", _LEVELS[lv].sub("", lines[k].folded, count=1))[0][:24]  # type: ignore[index]
        if len(name) > 20 or _NOT_SECTION.search(name):
            continue
        is_problem = bool(_PROBLEM_HEAD.search(name))
        is_suggest = bool(_SUGGEST_HEAD.search(name))
        if not (is_problem or is_suggest):
            continue
        end = next((j for j, l2 in heads[n + 1:] if l2 is not None and l2 <= lv), len(lines))  # type: ignore[operator]
        if is_problem and is_suggest and any(_PROBLEM_HEAD.search(lines[j].folded[:24]) or _SUGGEST_HEAD.search(lines[j].folded[:24])
                                             for j, _ in heads[n + 1:] if j < end):
            continue  # 存在的问题及改进建议: its sub-sections say which is which
        key = "problems" if is_problem else "suggestions"
        if getattr(rep, key):
            continue
        for text, x in _items(lines, k, end, lv):  # type: ignore[arg-type]
            rep.sources[f"{key}.{len(getattr(rep, key))}"] = SourceRef(page=x.page, line=x.line)
            getattr(rep, key).append(text)


def _items(lines: list[_Line], a: int, b: int, head_level: int) -> list[tuple[str, _Line]]:
    """A section's items (lines a..b, a its heading): its sub-headings one level down, else its
    ``一是 … 二是`` clauses, else its whole text as one item."""
    head = lines[a]
    inline = ""
    m = re.search(r"[。:]", head.folded)
    if m and m.end() < len(head.folded):
        inline = head.value(m.end(), len(head.folded))
    body = [x for x in lines[a + 1:b] if not _TOC.search(x.raw)]
    subs = [k for k, x in enumerate(body) if x.level is not None and x.level > head_level]
    if subs:
        top = min(body[k].level or 0 for k in subs)
        starts = [k for k in subs if body[k].level == top]
        out = []
        for n, k in enumerate(starts):
            stop = starts[n + 1] if n + 1 < len(starts) else len(body)
            x = body[k]
            lv = _LEVELS[x.level].match(x.folded)  # type: ignore[index]
            first = x.value(lv.end(), len(x.folded)) if lv else x.nfkc  # type: ignore[union-attr]
            out.append((first + "".join(y.nfkc for y in body[k + 1:stop]), x))
        return out
    text = inline + "".join(x.nfkc for x in body)
    if not text.strip():
        return []
    first = body[0] if body else head
    pieces = _ENUM.split(text)
    if len(pieces) >= 3:  # two 一是/二是 or more
        lead, parts = pieces[0].strip(), [p.strip() for p in pieces[1:] if p.strip()]
        if lead and not lead.endswith(":") and len(lead) >= 40:
            parts.insert(0, lead)  # a long opening sentence is an item of its own; a short lead-in is not
        return [(p, first) for p in parts]
    return [(text.strip(), first)]


def _projects(rep: Report, lines: list[_Line]) -> None:
    """Projects listed with amounts: a 项目名称 | 金额 table, or a list in prose."""
    seen: set[tuple[str, float | None, int]] = set()

    def add(name: str, amount: float | None, x: _Line, named: bool = False) -> None:
        """``named``: the text itself says this is what the money is for (``用于实施…``, a quoted name)."""
        key = fold_with_map(name)[0]
        if (key, amount, x.line) in seen or len(key) < 2 or _NOT_PROJECT.match(key) \
                or not (named or _PROJECT_WORD.search(key)) or re.search(r"调减|调增|合计|总计", key):
            return
        seen.add((key, amount, x.line))
        rep.projects.append(ReportProject(name=name, amount=amount, where=SourceRef(page=x.page, line=x.line)))

    for k, x in enumerate(lines):  # a table: a header naming 项目 and 金额, then name | amount rows
        if re.search(r"项目(?:名称)?.*(?:金额|资金|预算)", x.folded) and "\t" in x.raw or \
                re.search(r"^项目名称\|?(?:项目)?(?:金额|资金)", x.folded):
            for y in lines[k + 1:k + 40]:
                cells = [c.strip() for c in re.split(r"\t+|\s*\|\s*", y.nfkc) if c.strip()]
                if len(cells) != 2 or not re.fullmatch(r"\d[\d,]*(?:\.\d+)?", cells[1]):
                    break
                add(cells[0], float(cells[1].replace(",", "")), y)
    for x in lines:  # the amount first: ``将2.4亿元资金下拨用于实施清洁取暖,47万元资金下拨用于实施…项目``
        for m in _AMOUNT_FOR.finditer(x.folded):
            add(x.value(m.start(3), m.end(3)).strip("“”\"「」"), in_wan(m.group(1), m.group(2)), x, named=True)
        for m in _QUOTED_AMOUNT.finditer(x.folded):  # ``“…详细调查”(272万元)``
            add(x.value(m.start(1), m.end(1)), in_wan(m.group(2), m.group(3)), x, named=True)
    for x in lines:  # prose: ``项目支出包括委员活动经费36.3万元,扫黑除恶工作经费1万元``
        for lead in _LIST_LEAD.finditer(x.folded):
            tail_at = lead.end()
            for m in _LISTED.finditer(x.folded, tail_at):
                if m.start() - tail_at > 2:
                    break
                name = x.value(m.start(1), m.end(1)).strip("“”\"的及和与")
                name = re.sub(r"^(?:其中|包括|用于|主要|分别|实施)+", "", name)
                add(name, in_wan(m.group(2), m.group(3)) if m.group(2) else None, x)  # masked by the host: no amount
                tail_at = m.end() + (1 if m.end() < len(x.folded) and x.folded[m.end()] in ",、;" else 0)


def read_reports(doc: Document, covered: dict[int, list[tuple[int, int]]] | None = None) -> list[Report]:
    """Every narrative report of ``doc`` in order; ``covered`` holds, per page, the character spans of
    the forms found in it (their text is not a report's)."""
    lines = _lines(doc, covered or {})
    if not lines:
        return []
    starts = _starts(lines)
    reports = []
    for n, (k, title) in enumerate(starts):
        end = starts[n + 1][0] if n + 1 < len(starts) else len(lines)
        body = lines[k:end]
        if sum(len(x.folded) for x in body) < 120:
            continue
        rep = _read_report(body, title)
        before = lines[max(starts[n - 1][0] + 1 if n else 0, k - 3):k]  # a page title above the report
        if rep.year is None:
            rep.year = next((y for x in reversed(before) if (y := _year(x.folded))), None)
        if rep.unit is None:
            rep.unit = next((u for x in reversed(before) if _YEAR.search(x.folded) and (u := _split_title(x.nfkc, rep.kind)[0])),
                            None) or _publisher(lines[max(starts[n - 1][0] + 1 if n else 0, k - 8):k])
        reports.append(rep)
    return reports
