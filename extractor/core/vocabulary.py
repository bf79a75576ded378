"""The form's vocabulary (``vocabulary.toml``) and how printed text is matched against it.

Text is folded before matching: Unicode NFKC, traditional characters to simplified (OpenCC), the
pinyin that mirror sites print after some characters removed, white space removed. A label may
carry decorations that are not part of its name: a leading 其中 or list number, a trailing colon,
bracketed notes (``(万元)`` ``(A)`` ``(B/A×100%)`` ``(盖章)`` ``(20分)``). They are taken off for
matching and kept as attributes (unit, points). A cell may name several roles (``分值`` is a funds
column and an indicator column); the reader picks by context.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import opencc

from extractor.core.lazy_regex import lazy_compile

_T2S = opencc.OpenCC("t2s")
_TONED = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ"
# ``項(xiàng)目``: a bracket holding one pinyin syllable with a tone mark, right after a CJK character
PINYIN = lazy_compile(r"(?<=[\u3400-\u9fff])\(([a-zü]*[" + _TONED + r"][a-zü" + _TONED + r"]*)\)")
_WS = lazy_compile(r"\s+")


def strip_pinyin(text: str) -> str:
    """Remove the pinyin a traditional-character mirror inserts after characters."""
    return PINYIN.sub("", text) if "(" in text else text


@lru_cache(maxsize=262144)
def fold(text: str) -> str:
    """The form in which labels are compared: NFKC, simplified, no pinyin, no white space."""
    t = unicodedata.normalize("NFKC", text)
    if "(" in t:
        t = PINYIN.sub("", t)
    t = _WS.sub("", t)
    if t and not t.isascii():
        s = _T2S.convert(t)
        if len(s) == len(t):
            t = s
    return t


@lru_cache(maxsize=65536)
def fold_with_map(text: str) -> tuple[str, list[int]]:
    """:func:`fold` plus, for every folded character, the index of the character it came from."""
    out: list[str] = []
    idx: list[int] = []
    drop: set[int] = set()
    if "(" in text or "（" in text:
        for m in PINYIN.finditer(text.replace("（", "(").replace("）", ")")):
            drop.update(range(m.start(), m.end()))
    for i, ch in enumerate(text):
        if i in drop:
            continue
        for c in (unicodedata.normalize("NFKC", ch) if not ch.isascii() else ch):
            if not c.isspace():
                out.append(c)
                idx.append(i)
    folded = "".join(out)
    if folded and not folded.isascii():
        s = _T2S.convert(folded)
        if len(s) == len(folded):
            folded = s
    return folded, idx


# ---- loading the vocabulary -------------------------------------------------------------------
_DATA = tomllib.loads(Path(__file__).with_name("vocabulary.toml").read_text(encoding="utf-8"))


@dataclass(frozen=True, slots=True)
class Label:
    """What a cell names: its roles (``field.project_name``, ``fund_col.weight``, ...) and notes."""

    roles: frozenset[str]
    core: str  # the folded label without decorations
    points: float | None = None  # a points note: 产出指标(50分) -> 50
    unit: str | None = None  # an amount unit note: 项目资金(万元) -> 万元
    sub: bool = False  # led by 其中

    def has(self, prefix: str) -> bool:
        """Whether any role starts with ``prefix`` (``field.``, ``fund_col.``)."""
        return _has(self.roles, prefix)

    def role(self, prefix: str) -> str | None:
        """The role under ``prefix`` without it (``fund_col.weight`` -> ``weight``)."""
        for r in sorted(self.roles):
            if r.startswith(prefix):
                return r[len(prefix):]
        return None


@lru_cache(maxsize=8192)
def _has(roles: frozenset[str], prefix: str) -> bool:
    return any(r.startswith(prefix) for r in roles)


def _sections() -> tuple[dict[str, set[str]], dict[str, bool], set[str], dict[str, str]]:
    exact: dict[str, set[str]] = {}
    glue: dict[str, bool] = {}
    anchors: set[str] = set()
    anchor_for: dict[str, str] = {}
    for group, entries in _DATA.items():
        if group in ("units", "qualitative", "level", "total", "title"):
            continue
        for name, spec in entries.items():
            role = f"{group}.{name}"
            for lab in spec["labels"]:
                f = fold(lab)
                exact.setdefault(f, set()).add(role)
                g = spec.get("glue", len(f) >= 4)
                glue[f] = glue.get(f, False) or g
            if spec.get("anchor"):
                anchors.add(role)
            if spec.get("anchor_for"):
                anchor_for[role] = spec["anchor_for"]
    for lab in _DATA["total"]["labels"]:
        f = fold(lab)
        exact.setdefault(f, set()).add("total")
        glue[f] = glue.get(f, False) or len(f) >= 3
    return exact, glue, anchors, anchor_for


_EXACT, _GLUE, ANCHOR_ROLES, ANCHOR_FOR = _sections()
# funds column headers long enough that a one-character slip still says which column it is (the
# indicator table's are left alone: 全年完成率 may be an indicator's name, not 实际完成值 misread)
_HEADERS = tuple((f, role) for f, roles in _EXACT.items() if len(f) >= 5
                 for role in roles if role.startswith("fund_col."))
_HEADER_NAME = {f"fund_col.{name}": fold(spec["labels"][0]) for name, spec in _DATA["fund_col"].items()}


def _one_slip(a: str, b: str) -> bool:
    """Do a and b differ by exactly one character changed, or lost or added inside (not at an end:
    全年完成 is a value, not 全年完成值 cut short)?"""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b)) == 1
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    i = next((k for k, (x, y) in enumerate(zip(short, long_)) if x != y), len(short))
    return 0 < i < len(short) and short[i:] == long_[i + 1:]


def misread_header(text: str) -> str | None:
    """The funds column header an OCR reading is one character away from (全执行数, 全年执行故 →
    全年执行数), when every header that close names the same column and the reading is no label itself."""
    f = fold(text)
    if len(f) < 4 or f in _EXACT:
        return None
    roles = {role for lab, role in _HEADERS if _one_slip(f, lab)}
    return _HEADER_NAME[roles.pop()] if len(roles) == 1 else None
L1_CORES = frozenset(fold(x) for x in _DATA["level"]["l1"]["labels"])
L2_CORES = frozenset(fold(x) for x in _DATA["level"]["l2"]["labels"])
UNITS = tuple(sorted({fold(u) for u in _DATA["units"]["labels"]}, key=len, reverse=True))
QUALITATIVE = frozenset(fold(q) for q in _DATA["qualitative"]["labels"])
TITLE_SELF = tuple(fold(x) for x in _DATA["title"]["self"]["labels"])
TITLE_TARGET = tuple(fold(x) for x in _DATA["title"]["target"]["labels"])
TITLE_REPORT = tuple(fold(x) for x in _DATA["title"]["report"]["labels"])
REPORT_MARKERS = tuple(fold(x) for x in _DATA["title"]["report_marker"]["labels"])


@lru_cache(maxsize=131072)
def report_marker(text: str) -> bool:
    """A cover-page field of a narrative report (评价类型: …, 报告日期: …)."""
    f = fold(text)
    return len(f) <= 60 and f.startswith(REPORT_MARKERS)


TITLE_DEPARTMENT = tuple(fold(x) for x in _DATA["title"]["department"]["labels"])
TITLE_TRANSFER = tuple(fold(x) for x in _DATA["title"]["transfer"]["labels"])

# ---- decorations --------------------------------------------------------------------------------
_LEAD_NUM = lazy_compile(r"^(?:[一二三四五六七八九十]+[、.]|\(?[一二三四五六七八九十]+\)|\d{1,2}[、.](?!\d)|\(\d{1,2}\))")
_LEAD_SUB = lazy_compile(r"^其中[:;,]?")
_NOTE = lazy_compile(r"\(([^()]{0,24})\)$")
_POINTS = lazy_compile(r"^(\d+(?:\.\d+)?)分$")
_BARE_POINTS = lazy_compile(r"(\d+(?:\.\d+)?)分?$")
_UNIT_NOTE = lazy_compile(r"^(?:单位:)?(万元|元|千元|亿元)$")
_LETTER_NOTE = lazy_compile(r"^[A-Ea-e](?:[/÷][A-Ea-e](?:[×x*]100%)?)?$|^[A-E]-[A-E]$")
_OTHER_NOTE = lazy_compile(r"^(?:盖章|%|分|\d+分\*执行率|分\*执行率|\d+分[×x*]执行率|含.*|万元|人民币|签章|必填)$")


@dataclass(frozen=True, slots=True)
class _Stripped:
    core: str
    points: float | None
    unit: str | None
    sub: bool


@lru_cache(maxsize=262144)
def strip_decorations(folded: str) -> _Stripped:
    """Take list numbers, 其中, colons and bracketed notes off a folded label."""
    t = folded.strip("|:;,.、*#·")
    t = _LEAD_NUM.sub("", t)
    sub = bool(_LEAD_SUB.match(t))
    if sub:
        t = _LEAD_SUB.sub("", t)
    t = t.strip(":;,|")
    if t.endswith(")") and "(" not in t:
        t = t[:-1].rstrip(":")  # a stray closing bracket (年度预算资金总额):)
    points = unit = None
    for _ in range(4):
        m = _NOTE.search(t)
        if not m:
            break
        note = m.group(1)
        pm = _POINTS.match(note)
        um = _UNIT_NOTE.match(note)
        if pm:
            points = float(pm.group(1))
        elif um:
            unit = um.group(1)
        elif not (_LETTER_NOTE.match(note) or _OTHER_NOTE.match(note)):
            break
        t = t[: m.start()].rstrip(":")
    return _Stripped(t, points, unit, sub)


_LEVEL_SUFFIX = lazy_compile(r"(?:类指标|指标|类|目标|标指|指|标)$")


@lru_cache(maxsize=262144)
def level_of(text: str) -> frozenset[str]:
    """{"L1"}, {"L2"}, both or empty: whether a cell reads as a first/second-level indicator label.

    A core word (产出, 数量, 社会效益, …) with 指标/类指标/目标, or one of the bare words a form may
    print alone (产出, 效益, 满意度, 数量, 质量, 时效); a trailing points note is allowed. A label whose
    characters a vertical merged cell printed out of order (出标产指) is read by its letters.
    """
    st = strip_decorations(fold(text))
    t = st.core
    if t == "指标":
        return frozenset({"L2"})  # a second-level label cut short by a line break
    bare = _BARE_POINTS.search(t)
    if bare and len(t) > bare.end() - bare.start():
        t = t[: bare.start()]
    if not t or len(t) > 16 or t == "指标":
        return frozenset()
    m = _LEVEL_SUFFIX.search(t)
    core = t[: m.start()] if m else t
    kinds = set()
    if core in L1_CORES and (m or core in ("产出", "效益", "满意度", "项目决策", "项目管理", "项目绩效")):
        kinds.add("L1")
    if core in L2_CORES and (m or core in ("数量", "质量", "时效", "经济效益", "社会效益", "生态效益",
                                           "可持续影响", "服务对象满意度", "满意度")):
        kinds.add("L2")
    if not kinds and len(t) >= 4 and "指" in t and "标" in t:
        kinds |= _ANAGRAMS.get("".join(sorted(t)), set())
    return frozenset(kinds)


def _anagrams() -> tuple[dict[str, set[str]], dict[str, str]]:
    kinds: dict[str, set[str]] = {}
    texts: dict[str, str] = {}
    for kind, cores in (("L1", L1_CORES), ("L2", L2_CORES)):
        for c in cores:
            key = "".join(sorted(c + "指标"))
            kinds.setdefault(key, set()).add(kind)
            texts.setdefault(key, c + "指标")
    return kinds, texts


_ANAGRAMS, _ANAGRAM_TEXT = _anagrams()


def level_text(text: str) -> str:
    """A level label as a person reads it: an anagram read back in order, otherwise as printed."""
    t = strip_decorations(fold(text)).core
    m = _LEVEL_SUFFIX.search(t)
    core = t[: m.start()] if m else t
    if core in L1_CORES or core in L2_CORES:
        return text
    return _ANAGRAM_TEXT.get("".join(sorted(t)), text)


_VERB = lazy_compile(r"完成|达成|达到|实现|满足|符合|未达|超额")


_POINTS_NOTE = lazy_compile(r"(?:[(（]\d+(?:\.\d+)?分?[)）]|\d+(?:\.\d+)?分?)$")
_TEMPLATE = lazy_compile(r"^(指标\d*[:：]?|[…\.。·]+|指标[NnＮ][:：]?|\d+[.、]?)$")
_SERIAL = lazy_compile(r"\d+")


def strip_points(text: str) -> str:
    """A level label without its points note: ``产出指标(50分)`` -> ``产出指标`` (folded)."""
    t = fold(text)
    return _POINTS_NOTE.sub("", t) if len(t) > 2 else t


def is_template_name(text: str | None) -> bool:
    """An unfilled template placeholder: ``指标1：``, ``……``."""
    return bool(text) and bool(_TEMPLATE.match(fold(text or "")))


def is_torn_points(text: str | None) -> bool:
    """A template-like cell numbered past any template's rows (``50``, ``指标 40``): a points cell a
    dump tore from its heading, neither a row nor an unfilled placeholder (templates number from 1,
    a handful of rows per group)."""
    m = _SERIAL.search(fold(text or ""))
    return is_template_name(text) and m is not None and int(m.group()) > 20


def is_label(text: str) -> bool:
    """Whether a cell is any label of the vocabulary (a field, a column, a row, a level, a total)."""
    return match(text) is not None


@lru_cache(maxsize=131072)
def custom_level(text: str) -> bool:
    """A second-level label the vocabulary does not know (志愿服务类指标): short, ends in 指标."""
    t = strip_decorations(fold(text)).core
    if not (4 <= len(t) <= 10 and t.endswith("指标")) or any(ch.isdigit() for ch in t) or "率" in t:
        return False
    if _VERB.search(t):
        return False  # 完成指标, 达成年度指标: a result, not a level
    return t.endswith("类指标") or len(t) >= 5


def _fuzzy_index() -> dict[tuple[str, str], list[str]]:
    out: dict[tuple[str, str], list[str]] = {}
    for k in _EXACT:
        if len(k) >= 5:
            out.setdefault((k[:2], k[-2:]), []).append(k)
            out.setdefault((k[:1], k[-3:]), []).append(k)
    return out


_FUZZY = _fuzzy_index()


def _distance(a: str, b: str, cap: int) -> int:
    """Levenshtein distance, stopping early above ``cap``."""
    if abs(len(a) - len(b)) > cap:
        return cap + 1
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
        if min(cur) > cap:
            return cap + 1
        prev = cur
    return prev[-1]


def fuzzy_label(core: str) -> str | None:
    """A long label with an OCR misreading or two (``全年(If整)预算数``): the label it nearly is."""
    if len(core) < 5 or len(core) > 16:
        return None
    cands = set(_FUZZY.get((core[:2], core[-2:]), ())) | set(_FUZZY.get((core[:1], core[-3:]), ()))
    cap = max(1, len(core) // 4)
    best = None
    for c in cands:
        d = _distance(core, c, cap)
        if d <= cap and (best is None or d < best[0]):
            best = (d, c)
    return best[1] if best else None


@lru_cache(maxsize=262144)
def match(text: str) -> Label | None:
    """The label a whole cell is, or None."""
    f = fold(text)
    if not f or len(f) > 40:
        return None
    st = strip_decorations(f)
    roles = set(_EXACT.get(st.core, ()))
    if not roles and st.core != f:
        roles = set(_EXACT.get(f, ()))
    if not roles:
        near = fuzzy_label(st.core)
        if near is not None:
            roles = set(_EXACT[near])
    lv = level_of(text)
    points = st.points
    if lv:
        roles |= {f"level.{k.lower()}" for k in lv}
        bare = _BARE_POINTS.search(st.core)
        if points is None and bare and bare.start() > 0:
            points = float(bare.group(1))
    if not roles:
        return None
    return Label(frozenset(roles), st.core, points, st.unit, st.sub)


def _glue_pattern() -> re.Pattern[str]:
    words = set()
    for f, g in _GLUE.items():
        if g and len(f) >= 2:
            words.add(f)
    for c in L1_CORES | L2_CORES:
        if len(c) >= 2:
            words.add(c + "指标")
            words.add(c + "类指标")
    alts = sorted(words, key=len, reverse=True)
    return re.compile("|".join(re.escape(w) for w in alts))


GLUE_RE = lazy_compile(_glue_pattern)  # built only for text whose labels run together


def _compound(label: str) -> bool:
    """A label that is two shorter labels run together (执行率得分 = 执行率 + 得分): in glued text it
    is cut in two, since the two are more often separate columns."""
    for k in range(2, len(label) - 1):
        a, b = _EXACT.get(label[:k], set()), _EXACT.get(label[k:], set())
        for kind in ("fund_col.", "ind_col."):
            if any(r.startswith(kind) for r in a) and any(r.startswith(kind) for r in b):
                return True
    return False


def _dense_pattern() -> re.Pattern[str]:
    """In text already known to be glued, every label of four or more characters is cut out, with
    the bracketed note that may follow it (``指标权重(分)``)."""
    # three-letter labels that end in 率 end many indicator names (…完成率), so they are left alone
    words = {f for f in _EXACT if (len(f) >= 4 or len(f) == 3 and not (
        f.endswith("率") and not any(r.startswith("fund_col.") for r in _EXACT[f])))
             and not _compound(f)} | {c + "指标" for c in L1_CORES | L2_CORES if len(c) >= 2}
    alts = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    return re.compile(rf"(?:{alts})(?:\((?:[^()]{{1,12}})\))*")


DENSE_RE = lazy_compile(_dense_pattern)


def label_hits(folded: str) -> int:
    """How many of the vocabulary's words a (folded) text holds: a reading in the right encoding
    holds many, gibberish none."""
    return sum(1 for _ in GLUE_RE.finditer(folded))


def find_labels(folded: str, dense: bool = False) -> list[tuple[int, int]]:
    """(start, end) in ``folded`` of every label that may be cut out of glued text, left to right."""
    return [(m.start(), m.end()) for m in (DENSE_RE if dense else GLUE_RE).finditer(folded)]


_ALL_LABELS = frozenset(k for k in _EXACT if 2 <= len(k) <= 4)
_MAX_LABEL = max(len(k) for k in _ALL_LABELS)


@lru_cache(maxsize=65536)
def split_label_run(folded: str) -> tuple[int, ...] | None:
    """Cut points when ``folded`` is nothing but labels run together (``分值执行率得分``), else None."""
    n = len(folded)
    if n < 4 or n > 40:
        return None
    best: list[tuple[int, ...] | None] = [None] * (n + 1)
    best[0] = ()
    for i in range(n):
        if best[i] is None:
            continue
        for j in range(i + 2, min(n, i + _MAX_LABEL) + 1):
            if folded[i:j] in _ALL_LABELS and (best[j] is None or len(best[j]) > len(best[i]) + 1):
                best[j] = best[i] + (j,)
    got = best[n]
    return got if got is not None and len(got) >= 2 else None


SHORT_CUTS = ("总分", "合计", "总计", "得分", "分值", "权重")
# every beginning of a label (to tell at once that cells cannot join into one)
LABEL_PREFIXES = frozenset(k[:n] for k in list(_EXACT) + [c + s for c in L1_CORES | L2_CORES
                                                          for s in ("指标", "标指", "类指标", "目标")]
                           for n in range(1, len(k) + 1))
_TRAILING_FIGURE = lazy_compile(r"[\d.]+$")


@lru_cache(maxsize=131072)
def may_begin_label(text: str) -> bool:
    """Whether a label can begin with this cell (points figures and brackets aside)."""
    f = fold(text)
    if f in LABEL_PREFIXES or _TRAILING_FIGURE.sub("", f) in LABEL_PREFIXES or "(" in f:
        return True
    bare = _LEAD_NUM.sub("", _LEAD_SUB.sub("", f))  # 其中：当年财 | 政拨款, 1、年初预 | 算数
    return bare != f and bool(bare) and bare in LABEL_PREFIXES


_IND_LABELS = tuple(k for k, roles in _EXACT.items() if any(r.startswith("ind_col.") for r in roles) and len(k) >= 4)


@lru_cache(maxsize=65536)
def is_label_part(text: str) -> bool:
    """The first or last characters of an indicator-table column label (实际, 完成值 of 实际完成值)."""
    f = fold(text)
    return any(lab.startswith(f) or lab.endswith(f) for lab in _IND_LABELS if lab != f)
SHORT_LABELS = frozenset(k for k in _EXACT if 2 <= len(k) <= 3 and any(
    r.startswith(("ind_col.", "fund_col.")) for r in _EXACT[k]))


@lru_cache(maxsize=131072)
def is_title(text: str) -> str | None:
    """``self``, ``target``, ``report`` or None: whether a cell is a form's title, a target-setting
    table's, a narrative report's (or a heading naming one)."""
    f = fold(text)
    if len(f) > 80 or len(f) < 3:
        return None
    if "《" in f or "〈" in f:
        return None  # a document cited by name, not a heading
    if any(w in f for w in TITLE_REPORT) and not f.endswith(("表", "表)")):
        return "report"
    tail = _TITLE_TAIL.search(f)
    if not tail:
        return None  # a heading that only mentions a form (二、绩效自评工作开展情况)
    head = f[: tail.start(1)] + tail.group(1)
    if any(head.endswith(w) for w in TITLE_TARGET) and "自评" not in head:
        return "target"
    if any(head.endswith(w) for w in TITLE_SELF):
        return "self"
    return None


# a title ends with its form's name, then perhaps its year and a file extension
_TITLE_TAIL = lazy_compile(r"(表)(?:[(（]?\d{4}年?度?[)）]?)?(?:_第\d+页)?(?:\.(?:docx?|pdf|xlsx?|wps))?[)）]?$")
TITLE_WORDS = lazy_compile("(?:" + "|".join(re.escape(w) for w in sorted(set(TITLE_SELF + TITLE_TARGET), key=len, reverse=True))
                         + r")(?:[(（]\d{4}年?度?[)）])?")


def title_kind(text: str) -> str | None:
    """``department`` or ``transfer`` when a title names that kind of form."""
    f = fold(text)
    if any(w in f for w in TITLE_DEPARTMENT):
        return "department"
    if any(w in f for w in TITLE_TRANSFER):
        return "transfer"
    return None


_PAGE_MARK = lazy_compile(r"^([-—–－]+\s*\d+\s*[-—–－]+|第\s*\d+\s*页(\s*[,，/]?\s*共\s*\d+\s*页)?|\d+\s*/\s*\d+|-\s*\d+\s*-)$")


def is_page_marker(text: str) -> bool:
    """A page-number line (``- 2 -``, ``第1页 共3页``) printed between table parts."""
    return bool(_PAGE_MARK.match(text.strip().replace("\f", "")))


_NOTHING = lazy_compile(r"^(?:无|暂无|没有|未发现|不存在)(?:明显|重大|突出)?(?:问题|不足)?[。.;；]?$")


def says_nothing(items: list[str]) -> bool:
    """Whether a report's 问题 section says there is nothing (one item: ``无``, ``暂无问题``)."""
    return len(items) == 1 and bool(_NOTHING.match("".join(unicodedata.normalize("NFKC", items[0]).split())))
