"""The review database: documents, forms, every correction and every flag decision, in SQLite.

Extracted values and human work are stored apart: a form's extracted contract JSON is replaced when
its file is imported again, while corrections (field, old value, new value, who, when) and flag
decisions live in their own tables and are applied on read. A correction stays in force while the
re-extracted value still equals the value it corrected; if the source changed, it is kept in the
history, marked stale and shown to the reviewer, never silently applied or lost. Forms are matched
across re-imports by identity (name, department, year, first indicators), never by position; a
form the new file no longer holds is kept, retired, when it carries human work.

Every write is one transaction (``BEGIN IMMEDIATE``) in WAL mode, so a process killed mid-save
leaves the database as it was before or after that save. Each thread gets its own connection (the
review app serves many browser sessions from one process). Each form has a version number; a save
names the version the reviewer's page showed and is refused, with what the other save changed
(``form_events``), if another tab saved first.
"""

from __future__ import annotations

import datetime as _dt
import json
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from extractor.core.copies import copy_key
from extractor.core.errors import ExtractorError
from extractor.core.records import LOW_READING_CONFIDENCE
from extractor.store.contract import evidence_sha, flag_keys, get_path, is_numeric_field, parse_edit, set_path
from extractor.store.migrations import migrate


class ConcurrentEditError(ExtractorError):
    """Another window saved this form first; ``changes`` lists what that save (or saves) changed."""

    def __init__(self, message: str, changes: list[dict[str, Any]] | None = None, version: int | None = None):
        super().__init__(message)
        self.changes = changes or []
        self.version = version


class InvalidEditError(ExtractorError):
    """Values of the wrong type; ``errors`` maps each field to its Chinese message. Nothing was saved."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("；".join(f"{k}：{v}" for k, v in errors.items()))
        self.errors = errors


class StoreBusyError(ExtractorError):
    """The database stayed locked by another writer longer than the wait allows."""


def now() -> str:
    return _dt.datetime.now().isoformat(timespec="seconds")


def form_identity(form: dict[str, Any]) -> tuple[Any, ...]:
    """What makes a form the same form in a new copy of its file: name, department, year and the
    names of its first three indicators (fragments have no name: their indicators carry them)."""
    inds = tuple((i.get("name") or "") for i in (form.get("indicators") or [])[:3])
    return (form.get("project_name"), form.get("department"), form.get("year"), inds)


def _match_forms(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> dict[int, int]:
    """new index -> old index, by identity in three passes of decreasing strictness; each old form
    is taken once, and a form without name or indicators matches nothing."""
    def indicators(f: dict[str, Any]) -> tuple[str, ...] | None:
        return None if f.get("project_name") else form_identity(f)[3] or None

    keys = (lambda f: form_identity(f) if any(form_identity(f)) else None,
            lambda f: (f.get("project_name"), f.get("department")) if f.get("project_name") else None,
            indicators)
    match: dict[int, int] = {}
    taken: set[int] = set()
    for key in keys:
        free: dict[Any, list[int]] = {}
        for j, f in enumerate(old):
            k = key(f)
            if j not in taken and k is not None:
                free.setdefault(k, []).append(j)
        for i, f in enumerate(new):
            k = key(f)
            if i in match or k is None or not free.get(k):
                continue
            j = free[k].pop(0)
            match[i] = j
            taken.add(j)
    return match


class Store:
    """One review database."""

    def __init__(self, path: str | Path, rereview: Callable[[dict[str, Any]], dict[str, Any]] | None = None) -> None:
        """``rereview`` gives a corrected form's ``flags``, ``rescore`` and ``risk`` (the caller's review,
        with the caller's configuration: :func:`extractor.pipeline.process.reviewer`); without it a
        corrected form keeps the flags it was imported with."""
        self.path = str(path)
        self.rereview = rereview
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        migrate(self.conn)

    @property
    def conn(self) -> sqlite3.Connection:
        """This thread's connection (made on first use): sessions never share a transaction."""
        c = getattr(self._local, "conn", None)
        if c is None:
            c = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            c.row_factory = sqlite3.Row
            c.execute("PRAGMA busy_timeout=30000")
            c.execute("PRAGMA journal_mode=WAL")
            c.execute("PRAGMA foreign_keys=ON")
            c.execute("PRAGMA synchronous=FULL")
            self._local.conn = c
            with self._lock:
                self._all.append(c)
        return c

    def close(self) -> None:
        with self._lock:
            for c in self._all:
                c.close()
            self._all.clear()
        self._local = threading.local()

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        """One atomic write; a lock held too long by another writer is a Chinese error, nothing written."""
        c = self.conn
        try:
            c.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise StoreBusyError(f"审核数据库正被其他窗口或导入占用，等待超时，本次未保存，请稍后重试（{exc}）") from exc
        try:
            yield c
        except BaseException:
            if c.in_transaction:
                c.execute("ROLLBACK")
            raise
        c.execute("COMMIT")

    # ---- import --------------------------------------------------------------------------
    def save_result(self, path: str, result: dict[str, Any], sha256: str | None = None,
                    kind: str | None = None) -> int:
        """Store (or replace) one file's reviewed contract JSON; human work is kept and re-checked.

        Each new form takes the old form of the same identity (:func:`form_identity`), else the one of
        the same name and department, else (fragments) the one with the same first indicators; never
        one at the same position. Old forms left over are deleted, or retired when they carry
        corrections, decisions or a review mark."""
        with self.tx() as c:
            row = c.execute("SELECT id FROM documents WHERE path=?", (path,)).fetchone()
            name = Path(path).name
            if row is None:
                doc_id = c.execute("INSERT INTO documents(path,name,sha256,kind,status,error,imported_at) "
                                   "VALUES(?,?,?,?,?,?,?)", (path, name, sha256, kind, result.get("status", "ok"),
                                                             result.get("error"), now())).lastrowid
            else:
                doc_id = row["id"]
                c.execute("UPDATE documents SET sha256=?,kind=?,status=?,error=?,imported_at=? WHERE id=?",
                          (sha256, kind, result.get("status", "ok"), result.get("error"), now(), doc_id))
            old = c.execute("SELECT id, data, version FROM forms WHERE document_id=? AND retired_at IS NULL "
                            "ORDER BY idx", (doc_id,)).fetchall()
            new = list(result.get("forms") or [])
            match = _match_forms([json.loads(r["data"]) for r in old], new)
            for idx, form in enumerate(new):
                data = json.dumps(form, ensure_ascii=False)
                if idx in match:
                    before = old[match[idx]]
                    form_id = before["id"]
                    if before["data"] != data:  # a page showing the old reading must not save over the new one
                        c.execute("UPDATE forms SET version=version+1 WHERE id=?", (form_id,))
                        self._event(c, form_id, before["version"] + 1, "reimport", name, None, None, "")
                    c.execute("UPDATE forms SET idx=?, data=?, project_name=?, department=? WHERE id=?",
                              (-1 - idx, data, form.get("project_name"), form.get("department"), form_id))
                    self._recheck_corrections(c, form_id, form)
                else:
                    form_id = c.execute("INSERT INTO forms(document_id,idx,project_name,department,data) "
                                        "VALUES(?,?,?,?,?)", (doc_id, -1 - idx, form.get("project_name"),
                                                              form.get("department"), data)).lastrowid
                self._refresh_summary(c, form_id)
            used = {old[j]["id"] for j in match.values()}
            for form_id in (r["id"] for r in old):
                if form_id in used:
                    continue
                if self._has_work(c, form_id):
                    c.execute("UPDATE forms SET retired_at=?, idx=? WHERE id=?", (now(), 1_000_000 + form_id, form_id))
                else:
                    c.execute("DELETE FROM forms WHERE id=?", (form_id,))
            c.execute("UPDATE forms SET idx = -1 - idx WHERE document_id=? AND idx < 0", (doc_id,))
            c.execute("DELETE FROM reports WHERE document_id=?", (doc_id,))
            for idx, rep in enumerate(result.get("reports") or []):
                c.execute("INSERT INTO reports(document_id,idx,data) VALUES(?,?,?)",
                          (doc_id, idx, json.dumps(rep, ensure_ascii=False)))
            return int(doc_id)

    def reports(self) -> list[dict[str, Any]]:
        """Every narrative report stored, in document order, each with ``id``, ``document`` (its
        file's name) and ``path``."""
        rows = self.conn.execute("SELECT r.id, r.data, d.name, d.path FROM reports r JOIN documents d "
                                 "ON d.id=r.document_id ORDER BY d.name, r.idx").fetchall()
        return [{**json.loads(r["data"]), "id": r["id"], "document": r["name"], "path": r["path"]} for r in rows]

    @staticmethod
    def _has_work(c: sqlite3.Connection, form_id: int) -> bool:
        return bool(c.execute("SELECT (SELECT COUNT(*) FROM corrections WHERE form_id=?) + "
                              "(SELECT COUNT(*) FROM flag_decisions WHERE form_id=?) + "
                              "(SELECT reviewed FROM forms WHERE id=?)", (form_id, form_id, form_id)).fetchone()[0])

    def _recheck_corrections(self, c: sqlite3.Connection, form_id: int, form: dict[str, Any]) -> None:
        for r in c.execute("SELECT id, field, old_value FROM corrections WHERE form_id=? AND active=1",
                           (form_id,)).fetchall():
            now_value = get_path(form, r["field"])
            c.execute("UPDATE corrections SET stale=? WHERE id=?",
                      (0 if json.dumps(now_value, ensure_ascii=False) == r["old_value"] else 1, r["id"]))

    # ---- reading ---------------------------------------------------------------------------
    def documents(self) -> list[sqlite3.Row]:
        return self.conn.execute("SELECT * FROM documents ORDER BY name").fetchall()

    def stamp(self) -> tuple[int, int, int]:
        """Changes whenever a form is added, removed, re-read, corrected, decided or marked reviewed
        (every such save bumps a version): the key under which a summary of the forms may be kept."""
        r = self.conn.execute("SELECT COUNT(*), COALESCE(SUM(version), 0), COALESCE(MAX(id), 0) FROM forms "
                              "WHERE retired_at IS NULL").fetchone()
        return int(r[0]), int(r[1]), int(r[2])

    def triage(self, copies: bool = False) -> list[sqlite3.Row]:
        """One summary row per form: forms read with low confidence first (their values need checking
        before their flags mean anything), then highest risk first (no JSON parsing: fast on thousands).

        Copies of one form (:mod:`extractor.core.copies`) are one row: the copy already reviewed,
        else the best read, with ``copies`` (how many) and ``files`` (where they came from);
        ``copies=True`` lists every copy."""
        order = f"ORDER BY (COALESCE(f.confidence, 1) < {LOW_READING_CONFIDENCE}) DESC, f.risk DESC, f.file, f.idx"
        cols = ("f.id, f.project_name, f.department, f.risk, f.self_total, f.recomputed_total, f.gap, f.n_error, "
                "f.n_warn, f.n_info, f.codes, f.reviewed, f.version, f.confidence, f.file")
        base = ("SELECT f.id, f.project_name, f.department, f.risk, f.self_total, f.recomputed_total, f.gap, f.n_error, "
                "f.n_warn, f.n_info, f.codes, f.reviewed, f.version, f.confidence, f.idx, d.name AS file, "
                "COALESCE(f.copy_key, 'id' || f.id) AS ck FROM forms f "
                "JOIN documents d ON d.id=f.document_id WHERE f.retired_at IS NULL")
        if copies:
            return self.conn.execute(f"SELECT {cols}, 1 AS copies, f.file AS files FROM ({base}) f {order}").fetchall()
        return self.conn.execute(
            f"WITH live AS ({base}), ranked AS (SELECT *, ROW_NUMBER() OVER (PARTITION BY ck ORDER BY reviewed DESC, "
            "COALESCE(confidence, 1) DESC, id) AS rn, COUNT(*) OVER (PARTITION BY ck) AS copies FROM live), "
            "names AS (SELECT ck, GROUP_CONCAT(file, '、') AS files FROM (SELECT DISTINCT ck, file FROM live ORDER BY file) "
            f"GROUP BY ck) SELECT {cols}, f.copies, n.files FROM ranked f JOIN names n ON n.ck=f.ck WHERE f.rn=1 {order}"
        ).fetchall()

    def copies_of(self, form_id: int) -> list[sqlite3.Row]:
        """The other live copies of a form (id, file), for the form page's 同表副本 line."""
        return self.conn.execute(
            "SELECT f.id, d.name AS file FROM forms f JOIN documents d ON d.id=f.document_id, forms me "
            "WHERE me.id=? AND f.copy_key=me.copy_key AND f.id!=me.id AND f.retired_at IS NULL ORDER BY d.name",
            (form_id,)).fetchall()

    def problem_documents(self) -> list[sqlite3.Row]:
        """Files that gave no form to review: failed to read, or read with nothing found. Shown before
        every form (a file that failed is the least reviewed, not the cleanest)."""
        return self.conn.execute(
            "SELECT d.* FROM documents d WHERE d.status != 'ok' OR NOT EXISTS "
            "(SELECT 1 FROM forms f WHERE f.document_id=d.id AND f.retired_at IS NULL) ORDER BY d.name").fetchall()

    def retired_forms(self) -> list[sqlite3.Row]:
        """Forms a re-import no longer found, kept because they carry human work."""
        return self.conn.execute("SELECT f.id, f.project_name, f.retired_at, d.name AS file FROM forms f JOIN "
                                 "documents d ON d.id=f.document_id WHERE f.retired_at IS NOT NULL").fetchall()

    def document_of(self, form_id: int) -> sqlite3.Row:
        return self.conn.execute("SELECT d.* FROM forms f JOIN documents d ON d.id=f.document_id WHERE f.id=?",
                                 (form_id,)).fetchone()

    def version(self, form_id: int) -> int:
        r = self.conn.execute("SELECT version FROM forms WHERE id=?", (form_id,)).fetchone()
        if r is None:
            raise KeyError(form_id)
        return int(r["version"])

    def changes_since(self, form_id: int, version: int) -> list[dict[str, Any]]:
        """What the saves after ``version`` changed (corrections, decisions, review marks), oldest first."""
        return [dict(r) for r in self.conn.execute(
            "SELECT version, kind, target, old_value, new_value, who, at FROM form_events WHERE form_id=? AND "
            "version>? ORDER BY id", (form_id, version))]

    def decision_history(self, form_id: int) -> dict[str, list[dict[str, Any]]]:
        """Every decision ever saved on the form's flags, by flag key, oldest first: what it became,
        who decided and when (a later decision never erases an earlier one)."""
        out: dict[str, list[dict[str, Any]]] = {}
        for r in self.conn.execute("SELECT target, new_value, who, at FROM form_events WHERE form_id=? AND "
                                   "kind='decision' ORDER BY id", (form_id,)):
            out.setdefault(r["target"], []).append(json.loads(r["new_value"]) | {"who": r["who"], "at": r["at"]})
        return out

    def audit_trail(self) -> list[dict[str, Any]]:
        """Every save in the database (corrections, flag decisions, review marks), oldest first, with the
        form's file and project: the record an evaluator hands over with the findings."""
        rows = self.conn.execute(
            "SELECT e.id, e.form_id, e.version, e.kind, e.target, e.old_value, e.new_value, e.who, e.at, "
            "d.name AS document, f.project_name AS project FROM form_events e JOIN forms f ON f.id=e.form_id "
            "JOIN documents d ON d.id=f.document_id ORDER BY e.id").fetchall()
        return [{"id": r["id"], "form_id": r["form_id"], "version": r["version"], "kind": r["kind"],
                 "target": r["target"], "old": json.loads(r["old_value"]), "new": json.loads(r["new_value"]),
                 "who": r["who"], "at": r["at"], "document": r["document"],
                 "project": r["project"]} for r in rows]

    def raw_form(self, form_id: int) -> tuple[dict[str, Any], int, int]:
        r = self.conn.execute("SELECT data, version, reviewed FROM forms WHERE id=?", (form_id,)).fetchone()
        if r is None:
            raise KeyError(form_id)
        return json.loads(r["data"]), r["version"], r["reviewed"]

    def corrections(self, form_id: int) -> list[sqlite3.Row]:
        return self.conn.execute("SELECT * FROM corrections WHERE form_id=? ORDER BY id", (form_id,)).fetchall()

    def decisions(self, form_id: int) -> dict[str, sqlite3.Row]:
        return {r["flag_key"]: r for r in self.conn.execute("SELECT * FROM flag_decisions WHERE form_id=?",
                                                             (form_id,))}

    def effective_form(self, form_id: int) -> dict[str, Any]:
        """The extracted form with every live correction applied and the review re-run on it."""
        data, _, _ = self.raw_form(form_id)
        fixed = self._corrected(data, [(r["field"], r["new_value"]) for r in self.corrections(form_id)
                                       if r["active"] and not r["stale"]])
        decisions = self.decisions(form_id)
        flags = fixed.get("flags") or []
        for fl, key in zip(flags, flag_keys(flags)):
            d = decisions.get(key)
            if d is not None:
                fl["decision"], fl["comment"] = d["decision"], d["comment"]
                if d["message"]:
                    fl["message"] = d["message"]
                if d["evidence_sha"] and d["evidence_sha"] != evidence_sha(fl):
                    fl["reconfirm"] = True  # the quoted text changed since the decision: ask again
        return fixed

    def _corrected(self, data: dict[str, Any], live: list[tuple[str, str]]) -> dict[str, Any]:
        """A copy of the extracted form with the live corrections (field, JSON value) applied and, when
        there are any, the caller's re-review run on it."""
        fixed = json.loads(json.dumps(data))
        for field, new in live:
            set_path(fixed, field, json.loads(new))
        if live and self.rereview is not None:
            try:
                fixed.update(self.rereview(fixed))
            except Exception as exc:  # a value the rules cannot take must not hide the form
                fixed.setdefault("warnings", []).append(f"更正后重新审核失败，仍显示导入时的审核意见：{exc}")
        return fixed

    # ---- human work ------------------------------------------------------------------------
    def _check_version(self, c: sqlite3.Connection, form_id: int, expected: int) -> None:
        r = c.execute("SELECT version FROM forms WHERE id=?", (form_id,)).fetchone()
        if r is None:
            raise KeyError(form_id)
        if r["version"] != expected:
            changes = self.changes_since(form_id, expected)
            by = "、".join(dict.fromkeys(f"{x['who'] or '未署名'}（{x['at']}）" for x in changes)) or "其他窗口"
            raise ConcurrentEditError(
                f"他人已修改：你打开此表之后，{by}已保存了修改（当前第 {r['version']} 版，你看到的是第 {expected} 版）。"
                "为避免覆盖，本次未保存；你的修改仍保留在页面上，请对照下面的差异，载入最新内容后重新确认。",
                changes, int(r["version"]))

    @staticmethod
    def _event(c: sqlite3.Connection, form_id: int, version: int, kind: str, target: str, old: Any, new: Any,
               who: str) -> None:
        c.execute("INSERT INTO form_events(form_id,version,kind,target,old_value,new_value,who,at) VALUES(?,?,?,?,?,?,?,?)",
                  (form_id, version, kind, target, json.dumps(old, ensure_ascii=False),
                   json.dumps(new, ensure_ascii=False), who, now()))

    def save_corrections(self, form_id: int, expected_version: int, edits: dict[str, Any], who: str) -> int:
        """Record corrections (old value = the value shown before the edit); returns the new version.
        Values of the wrong type (text in a number field) raise :class:`InvalidEditError` and nothing
        is saved: the caller checks them with :func:`~extractor.store.contract.parse_edit` first."""
        errors = {f: "应为数字" for f, v in edits.items()
                  if is_numeric_field(f) and v is not None and parse_edit(f, v)[1] is not None}
        if errors:
            raise InvalidEditError(errors)
        with self.tx() as c:
            self._check_version(c, form_id, expected_version)
            current = self.effective_form(form_id)
            data, _, _ = self.raw_form(form_id)
            new_version = expected_version + 1
            for field, new in edits.items():
                old_shown = get_path(current, field)
                if json.dumps(old_shown, ensure_ascii=False) == json.dumps(new, ensure_ascii=False):
                    continue
                c.execute("UPDATE corrections SET active=0 WHERE form_id=? AND field=? AND active=1", (form_id, field))
                if field == "indicators":  # the whole table, rows added or removed: its cells' corrections are in it
                    c.execute("UPDATE corrections SET active=0 WHERE form_id=? AND field LIKE 'indicators.%' AND active=1",
                              (form_id,))
                c.execute("INSERT INTO corrections(form_id,field,old_value,new_value,who,at) VALUES(?,?,?,?,?,?)",
                          (form_id, field, json.dumps(get_path(data, field), ensure_ascii=False),
                           json.dumps(new, ensure_ascii=False), who, now()))
                self._event(c, form_id, new_version, "correction", field, old_shown, new, who)
            c.execute("UPDATE forms SET version=version+1 WHERE id=?", (form_id,))
            self._refresh_summary(c, form_id)
            return new_version

    def decide_flag(self, form_id: int, expected_version: int, flag: dict[str, Any] | str, decision: str,
                    comment: str = "", message: str = "", who: str = "") -> int:
        """Accept, reject or edit a flag (with a comment); returns the new version. ``flag`` is its key
        (:func:`~extractor.store.contract.flag_keys`) or the flag as the effective form shows it."""
        if decision not in ("accepted", "rejected", "edited", "open"):
            raise ValueError(decision)
        with self.tx() as c:
            self._check_version(c, form_id, expected_version)
            flags = self.effective_form(form_id).get("flags") or []
            keys = flag_keys(flags)
            if isinstance(flag, str):
                key = flag
            else:
                same = [k for f, k in zip(flags, keys) if (f.get("code"), f.get("indicator"), f.get("evidence")) ==
                        (flag.get("code"), flag.get("indicator"), flag.get("evidence"))]
                key = same[0] if same else flag_keys([flag])[0]
            shown = dict(zip(keys, flags)).get(key) or (flag if isinstance(flag, dict) else {})
            before = self.decisions(form_id).get(key)
            c.execute("INSERT INTO flag_decisions(form_id,flag_key,decision,comment,message,who,at,evidence_sha) "
                      "VALUES(?,?,?,?,?,?,?,?) ON CONFLICT(form_id,flag_key) DO UPDATE SET decision=excluded.decision, "
                      "comment=excluded.comment, message=excluded.message, who=excluded.who, at=excluded.at, "
                      "evidence_sha=excluded.evidence_sha",
                      (form_id, key, decision, comment, message or None, who, now(), evidence_sha(shown)))
            self._event(c, form_id, expected_version + 1, "decision", key,
                        None if before is None else {"decision": before["decision"], "comment": before["comment"],
                                                     "message": before["message"]},
                        {"decision": decision, "comment": comment, "message": message or None}, who)
            c.execute("UPDATE forms SET version=version+1 WHERE id=?", (form_id,))
            return expected_version + 1

    def replace_reading(self, form_id: int, expected_version: int, form: dict[str, Any], who: str = "",
                        kind: str = "llm") -> int:
        """Put a new machine reading of one form in place of the stored one (the LLM step run on it from
        the app); returns the new version. Corrections stay and are re-checked against the new values,
        decisions stay on their flags, the event is kept with who asked for it."""
        with self.tx() as c:
            self._check_version(c, form_id, expected_version)
            self._event(c, form_id, expected_version + 1, kind, "reading", None, None, who)
            c.execute("UPDATE forms SET data=?, project_name=?, department=?, version=version+1 WHERE id=?",
                      (json.dumps(form, ensure_ascii=False), form.get("project_name"), form.get("department"), form_id))
            self._recheck_corrections(c, form_id, form)
            self._refresh_summary(c, form_id)
            return expected_version + 1

    def value_version(self, form_id: int) -> int:
        """How many saves changed the form's values (corrections, re-imports, new readings): unlike
        :meth:`version`, a flag decision or a review mark leaves it as it is."""
        return int(self.conn.execute("SELECT COUNT(*) FROM form_events WHERE form_id=? AND kind NOT IN "
                                     "('decision', 'reviewed')", (form_id,)).fetchone()[0])

    def position(self, form_id: int) -> int:
        """The form's position among its file's forms (0-based), as the reader found them."""
        r = self.conn.execute("SELECT idx FROM forms WHERE id=?", (form_id,)).fetchone()
        if r is None:
            raise KeyError(form_id)
        return int(r["idx"])

    def set_reviewed(self, form_id: int, expected_version: int, reviewed: bool = True, who: str = "") -> int:
        with self.tx() as c:
            self._check_version(c, form_id, expected_version)
            self._event(c, form_id, expected_version + 1, "reviewed", "reviewed", not reviewed, reviewed, who)
            c.execute("UPDATE forms SET reviewed=?, version=version+1 WHERE id=?", (int(reviewed), form_id))
            return expected_version + 1

    # ---- imports ---------------------------------------------------------------------------
    def start_import(self, items: list[tuple[str, str, str, str | None]], who: str = "") -> int:
        """A new import record: ``items`` are (path, name, state, error) with state ``pending`` for
        files to read and ``skipped`` for inputs the folder walk set aside (with the reason)."""
        with self.tx() as c:
            iid = c.execute("INSERT INTO imports(started_at,status,who,n_inputs) VALUES(?,?,?,?)",
                            (now(), "running", who, len(items))).lastrowid
            c.executemany("INSERT INTO import_items(import_id,idx,path,name,state,error) VALUES(?,?,?,?,?,?)",
                          [(iid, k, p, n, st, e) for k, (p, n, st, e) in enumerate(items)])
            return int(iid)

    def record_item(self, import_id: int, idx: int, state: str, forms: int = 0, fragments: int = 0,
                    error: str | None = None) -> None:
        with self.tx() as c:
            c.execute("UPDATE import_items SET state=?, forms=?, fragments=?, error=? WHERE import_id=? AND idx=?",
                      (state, forms, fragments, error, import_id, idx))

    def finish_import(self, import_id: int, status: str, note: str | None = None) -> None:
        with self.tx() as c:
            c.execute("UPDATE imports SET status=?, finished_at=?, note=? WHERE id=?", (status, now(), note, import_id))

    def imports(self, limit: int = 20) -> list[sqlite3.Row]:
        return self.conn.execute("SELECT * FROM imports ORDER BY id DESC LIMIT ?", (limit,)).fetchall()

    def import_items(self, import_id: int) -> list[sqlite3.Row]:
        return self.conn.execute("SELECT * FROM import_items WHERE import_id=? ORDER BY idx", (import_id,)).fetchall()

    def save_draft(self, name: str, text: str, who: str = "") -> None:
        """Keep the reviewer's edited 问题与建议 text."""
        with self.tx() as c:
            c.execute("INSERT INTO drafts(name,text,who,at) VALUES(?,?,?,?) ON CONFLICT(name) DO UPDATE SET "
                      "text=excluded.text, who=excluded.who, at=excluded.at", (name, text, who, now()))

    def drafts(self, prefix: str = "") -> list[sqlite3.Row]:
        """Saved drafts whose name starts with ``prefix`` (name, who, at), newest first."""
        return self.conn.execute("SELECT name, who, at, text FROM drafts WHERE substr(name, 1, ?)=? ORDER BY at DESC, name DESC",
                                 (len(prefix), prefix)).fetchall()

    def load_draft(self, name: str) -> str | None:
        r = self.conn.execute("SELECT text FROM drafts WHERE name=?", (name,)).fetchone()
        return r["text"] if r else None

    def _refresh_summary(self, c: sqlite3.Connection, form_id: int) -> None:
        """Recompute the triage columns from the effective form (inside the caller's transaction)."""
        r = c.execute("SELECT data FROM forms WHERE id=?", (form_id,)).fetchone()
        live = c.execute("SELECT field, new_value FROM corrections WHERE form_id=? AND active=1 AND stale=0 ORDER BY id",
                         (form_id,)).fetchall()
        data = self._corrected(json.loads(r["data"]), [(x["field"], x["new_value"]) for x in live])
        flags = data.get("flags") or []
        rs = data.get("rescore") or {}
        sev = [f.get("severity") for f in flags]
        codes = sorted({f.get("code") for f in flags})
        c.execute("UPDATE forms SET risk=?, self_total=?, recomputed_total=?, gap=?, n_error=?, n_warn=?, n_info=?, "
                  "codes=?, confidence=?, copy_key=? WHERE id=?",
                  (data.get("risk"), rs.get("self_total"), rs.get("recomputed_total"), rs.get("gap"), sev.count("error"),
                   sev.count("warn"), sev.count("info"), ",".join(codes), data.get("confidence"), copy_key(data), form_id))
