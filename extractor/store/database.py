"""The review database: documents, forms, every correction and every flag decision, in SQLite.

Extracted values and human work are stored apart: a form's extracted contract JSON is replaced when
its file is imported again, while corrections (field, old value, new value, who, when) and flag
decisions live in their own tables and are applied on read. A correction stays in force while the
re-extracted value still equals the value it corrected; if the source changed, it is kept in the
history, marked stale and shown to the reviewer, never silently applied or lost.

Every write is one transaction (``BEGIN IMMEDIATE``) in WAL mode, so a process killed mid-save
leaves the database as it was before or after that save. Each form has a version number; a save
names the version it started from and is refused if another tab saved first.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from extractor.core.errors import ExtractorError
from extractor.core.records import LOW_READING_CONFIDENCE
from extractor.store.contract import get_path, set_path
from extractor.store.migrations import migrate


class ConcurrentEditError(ExtractorError):
    """Another window saved this form first."""


def now() -> str:
    return _dt.datetime.now().isoformat(timespec="seconds")


def flag_key(flag: dict[str, Any]) -> str:
    """A flag's identity across re-imports: code, indicator, and the evidence it quotes."""
    ev = hashlib.sha1((flag.get("evidence") or "").encode("utf-8")).hexdigest()[:10]
    return f"{flag.get('code')}|{flag.get('indicator')}|{ev}"


class Store:
    """One review database."""

    def __init__(self, path: str | Path, rereview: Callable[[dict[str, Any]], dict[str, Any]] | None = None) -> None:
        """``rereview`` gives a corrected form's ``flags``, ``rescore`` and ``risk`` (the caller's review,
        with the caller's configuration: :func:`extractor.pipeline.process.reviewer`); without it a
        corrected form keeps the flags it was imported with."""
        self.path = str(path)
        self.rereview = rereview
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
        self.conn.row_factory = sqlite3.Row
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA foreign_keys=ON")
        self.conn.execute("PRAGMA synchronous=FULL")
        migrate(self.conn)

    def close(self) -> None:
        self.conn.close()

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        """One atomic write."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    # ---- import --------------------------------------------------------------------------
    def save_result(self, path: str, result: dict[str, Any], sha256: str | None = None,
                    kind: str | None = None) -> int:
        """Store (or replace) one file's reviewed contract JSON; human work is kept and re-checked."""
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
            old = {r["idx"]: r for r in c.execute("SELECT * FROM forms WHERE document_id=?", (doc_id,))}
            by_name = {r["project_name"]: r for r in old.values() if r["project_name"]}
            kept: set[int] = set()
            for idx, form in enumerate(result.get("forms") or []):
                prev = by_name.get(form.get("project_name")) or old.get(idx)
                if prev is not None and prev["id"] not in kept:
                    kept.add(prev["id"])
                    c.execute("UPDATE forms SET idx=?, data=?, project_name=?, department=? WHERE id=?",
                              (-1 - idx, json.dumps(form, ensure_ascii=False), form.get("project_name"),
                               form.get("department"), prev["id"]))
                    self._recheck_corrections(c, prev["id"], form)
                    form_id = prev["id"]
                else:
                    form_id = c.execute("INSERT INTO forms(document_id,idx,project_name,department,data) "
                                        "VALUES(?,?,?,?,?)", (doc_id, -1 - idx, form.get("project_name"),
                                                              form.get("department"),
                                                              json.dumps(form, ensure_ascii=False))).lastrowid
                self._refresh_summary(c, form_id)
            for r in old.values():
                if r["id"] not in kept:
                    c.execute("DELETE FROM forms WHERE id=?", (r["id"],))
            c.execute("UPDATE forms SET idx = -1 - idx WHERE document_id=? AND idx < 0", (doc_id,))
            return int(doc_id)

    def _recheck_corrections(self, c: sqlite3.Connection, form_id: int, form: dict[str, Any]) -> None:
        for r in c.execute("SELECT id, field, old_value FROM corrections WHERE form_id=? AND active=1",
                           (form_id,)).fetchall():
            now_value = get_path(form, r["field"])
            c.execute("UPDATE corrections SET stale=? WHERE id=?",
                      (0 if json.dumps(now_value, ensure_ascii=False) == r["old_value"] else 1, r["id"]))

    # ---- reading ---------------------------------------------------------------------------
    def documents(self) -> list[sqlite3.Row]:
        return self.conn.execute("SELECT * FROM documents ORDER BY name").fetchall()

    def triage(self) -> list[sqlite3.Row]:
        """Every form's summary row: forms read with low confidence first (their values need checking
        before their flags mean anything), then highest risk first (no JSON parsing: fast on thousands)."""
        return self.conn.execute(
            "SELECT f.id, f.project_name, f.department, f.risk, f.self_total, f.recomputed_total, f.gap, f.n_error, "
            "f.n_warn, f.n_info, f.codes, f.reviewed, f.version, f.confidence, d.name AS file FROM forms f "
            "JOIN documents d ON d.id=f.document_id "
            f"ORDER BY (COALESCE(f.confidence, 1) < {LOW_READING_CONFIDENCE}) DESC, f.risk DESC, d.name, f.idx").fetchall()

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
        for fl in fixed.get("flags") or []:
            d = decisions.get(flag_key(fl))
            if d is not None:
                fl["decision"], fl["comment"] = d["decision"], d["comment"]
                if d["message"]:
                    fl["message"] = d["message"]
        return fixed

    def _corrected(self, data: dict[str, Any], live: list[tuple[str, str]]) -> dict[str, Any]:
        """A copy of the extracted form with the live corrections (field, JSON value) applied and, when
        there are any, the caller's re-review run on it."""
        fixed = json.loads(json.dumps(data))
        for field, new in live:
            set_path(fixed, field, json.loads(new))
        if live and self.rereview is not None:
            fixed.update(self.rereview(fixed))
        return fixed

    # ---- human work ------------------------------------------------------------------------
    def _check_version(self, c: sqlite3.Connection, form_id: int, expected: int) -> None:
        r = c.execute("SELECT version FROM forms WHERE id=?", (form_id,)).fetchone()
        if r is None:
            raise KeyError(form_id)
        if r["version"] != expected:
            raise ConcurrentEditError("该表已在其他窗口或由其他人修改并保存。为避免覆盖，本次未保存；请刷新后重新修改。")

    def save_corrections(self, form_id: int, expected_version: int, edits: dict[str, Any], who: str) -> int:
        """Record corrections (old value = the value shown before the edit); returns the new version."""
        current = self.effective_form(form_id)
        data, _, _ = self.raw_form(form_id)
        with self.tx() as c:
            self._check_version(c, form_id, expected_version)
            for field, new in edits.items():
                old_shown = get_path(current, field)
                if json.dumps(old_shown, ensure_ascii=False) == json.dumps(new, ensure_ascii=False):
                    continue
                c.execute("UPDATE corrections SET active=0 WHERE form_id=? AND field=? AND active=1", (form_id, field))
                c.execute("INSERT INTO corrections(form_id,field,old_value,new_value,who,at) VALUES(?,?,?,?,?,?)",
                          (form_id, field, json.dumps(get_path(data, field), ensure_ascii=False),
                           json.dumps(new, ensure_ascii=False), who, now()))
            c.execute("UPDATE forms SET version=version+1 WHERE id=?", (form_id,))
            self._refresh_summary(c, form_id)
            return expected_version + 1

    def decide_flag(self, form_id: int, expected_version: int, flag: dict[str, Any], decision: str,
                    comment: str = "", message: str = "", who: str = "") -> int:
        """Accept, reject or edit a flag (with a comment); returns the new version."""
        if decision not in ("accepted", "rejected", "edited", "open"):
            raise ValueError(decision)
        with self.tx() as c:
            self._check_version(c, form_id, expected_version)
            c.execute("INSERT INTO flag_decisions(form_id,flag_key,decision,comment,message,who,at) VALUES(?,?,?,?,?,?,?) "
                      "ON CONFLICT(form_id,flag_key) DO UPDATE SET decision=excluded.decision, comment=excluded.comment, "
                      "message=excluded.message, who=excluded.who, at=excluded.at",
                      (form_id, flag_key(flag), decision, comment, message or None, who, now()))
            c.execute("UPDATE forms SET version=version+1 WHERE id=?", (form_id,))
            return expected_version + 1

    def set_reviewed(self, form_id: int, expected_version: int, reviewed: bool = True) -> int:
        with self.tx() as c:
            self._check_version(c, form_id, expected_version)
            c.execute("UPDATE forms SET reviewed=?, version=version+1 WHERE id=?", (int(reviewed), form_id))
            return expected_version + 1

    def save_draft(self, name: str, text: str, who: str = "") -> None:
        """Keep the reviewer's edited 问题与建议 text."""
        with self.tx() as c:
            c.execute("INSERT INTO drafts(name,text,who,at) VALUES(?,?,?,?) ON CONFLICT(name) DO UPDATE SET "
                      "text=excluded.text, who=excluded.who, at=excluded.at", (name, text, who, now()))

    def load_draft(self, name: str) -> str | None:
        r = self.conn.execute("SELECT text FROM drafts WHERE name=?", (name,)).fetchone()
        return r["text"] if r else None

    def _refresh_summary(self, c: sqlite3.Connection, form_id: int) -> None:
        """Recompute the triage columns from the effective form (inside the caller's transaction)."""
        r = c.execute("SELECT data FROM forms WHERE id=?", (form_id,)).fetchone()
        live = c.execute("SELECT field, new_value FROM corrections WHERE form_id=? AND active=1 AND stale=0",
                         (form_id,)).fetchall()
        data = self._corrected(json.loads(r["data"]), [(x["field"], x["new_value"]) for x in live])
        flags = data.get("flags") or []
        rs = data.get("rescore") or {}
        sev = [f.get("severity") for f in flags]
        codes = sorted({f.get("code") for f in flags})
        c.execute("UPDATE forms SET risk=?, self_total=?, recomputed_total=?, gap=?, n_error=?, n_warn=?, n_info=?, "
                  "codes=?, confidence=? WHERE id=?", (data.get("risk"), rs.get("self_total"), rs.get("recomputed_total"),
                                                       rs.get("gap"), sev.count("error"), sev.count("warn"),
                                                       sev.count("info"), ",".join(codes), data.get("confidence"),
                                                       form_id))
