"""The review database's schema as numbered migrations, keyed on ``PRAGMA user_version``.

Each ``mNNN_*`` function takes the database one version up and runs in its own transaction with
the version bump, so a database is always at a whole version. A new column or table is a new
function at the end of :data:`MIGRATIONS`; an existing one is never edited, because databases in
the field have already run it. Databases made before versioning (version 0 with tables present)
are brought up by the same functions: each one is written to be a no-op where its change is
already there.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable

from extractor.core.copies import copy_key
from extractor.core.errors import ExtractorError

_INITIAL = """
CREATE TABLE IF NOT EXISTS documents(
  id INTEGER PRIMARY KEY, path TEXT UNIQUE NOT NULL, name TEXT NOT NULL, sha256 TEXT, kind TEXT,
  status TEXT NOT NULL, error TEXT, imported_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS forms(
  id INTEGER PRIMARY KEY, document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
  idx INTEGER NOT NULL, project_name TEXT, department TEXT, data TEXT NOT NULL,
  risk REAL, self_total REAL, recomputed_total REAL, gap REAL, n_error INTEGER, n_warn INTEGER, n_info INTEGER,
  codes TEXT, reviewed INTEGER NOT NULL DEFAULT 0, version INTEGER NOT NULL DEFAULT 0,
  UNIQUE(document_id, idx));
CREATE TABLE IF NOT EXISTS corrections(
  id INTEGER PRIMARY KEY, form_id INTEGER NOT NULL REFERENCES forms(id) ON DELETE CASCADE,
  field TEXT NOT NULL, old_value TEXT, new_value TEXT, who TEXT, at TEXT NOT NULL,
  active INTEGER NOT NULL DEFAULT 1, stale INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS flag_decisions(
  id INTEGER PRIMARY KEY, form_id INTEGER NOT NULL REFERENCES forms(id) ON DELETE CASCADE,
  flag_key TEXT NOT NULL, decision TEXT NOT NULL, comment TEXT, message TEXT, who TEXT, at TEXT NOT NULL,
  UNIQUE(form_id, flag_key));
CREATE TABLE IF NOT EXISTS drafts(
  name TEXT PRIMARY KEY, text TEXT NOT NULL, who TEXT, at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS forms_risk ON forms(risk DESC);
CREATE INDEX IF NOT EXISTS corrections_form ON corrections(form_id)
"""


def m001_initial(c: sqlite3.Connection) -> None:
    """Documents, forms, corrections, flag decisions and drafts."""
    for stmt in _INITIAL.split(";"):
        if stmt.strip():
            c.execute(stmt)


def m002_forms_confidence(c: sqlite3.Connection) -> None:
    """The reading confidence of each form as a column (forms read with low confidence go first)."""
    have = {r[1] for r in c.execute("PRAGMA table_info(forms)")}
    if "confidence" not in have:
        c.execute("ALTER TABLE forms ADD COLUMN confidence REAL")
    c.execute("UPDATE forms SET confidence=json_extract(data, '$.confidence') WHERE confidence IS NULL")


_HISTORY = """
CREATE TABLE IF NOT EXISTS form_events(
  id INTEGER PRIMARY KEY, form_id INTEGER NOT NULL REFERENCES forms(id) ON DELETE CASCADE,
  version INTEGER NOT NULL, kind TEXT NOT NULL, target TEXT, old_value TEXT, new_value TEXT, who TEXT,
  at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS form_events_form ON form_events(form_id, version);
CREATE TABLE IF NOT EXISTS imports(
  id INTEGER PRIMARY KEY, started_at TEXT NOT NULL, finished_at TEXT, status TEXT NOT NULL, who TEXT,
  n_inputs INTEGER NOT NULL, note TEXT);
CREATE TABLE IF NOT EXISTS import_items(
  id INTEGER PRIMARY KEY, import_id INTEGER NOT NULL REFERENCES imports(id) ON DELETE CASCADE,
  idx INTEGER NOT NULL, path TEXT NOT NULL, name TEXT NOT NULL, state TEXT NOT NULL, forms INTEGER,
  fragments INTEGER, error TEXT, UNIQUE(import_id, idx))
"""


def _flag_position_key(flags: list[dict], code: str, indicator: str, ev_sha: str) -> str | None:
    """The new key (code|indicator|n-th of that pair) of the flag an old key (code|indicator|evidence
    hash) named, found in the form's stored flags."""
    from extractor.store.contract import evidence_sha, flag_keys

    for fl, key in zip(flags, flag_keys(flags)):
        if (str(fl.get("code")), str(fl.get("indicator"))) == (code, indicator) and evidence_sha(fl) == ev_sha:
            return key
    return None


def m003_history_identity_imports(c: sqlite3.Connection) -> None:
    """A history of every save (what another tab changed), flag decisions keyed by rule and indicator
    (the evidence hash kept beside, to mark a decision for re-confirmation when the evidence
    changes), forms kept when a re-import no longer finds them but they carry human work, and a
    record of every import with each input's outcome."""
    import json

    for stmt in _HISTORY.split(";"):
        if stmt.strip():
            c.execute(stmt)
    if "retired_at" not in {r[1] for r in c.execute("PRAGMA table_info(forms)")}:
        c.execute("ALTER TABLE forms ADD COLUMN retired_at TEXT")
    if "evidence_sha" in {r[1] for r in c.execute("PRAGMA table_info(flag_decisions)")}:
        return
    c.execute("ALTER TABLE flag_decisions ADD COLUMN evidence_sha TEXT")
    rows = c.execute("SELECT d.id, d.form_id, d.flag_key, f.data FROM flag_decisions d "
                     "JOIN forms f ON f.id=d.form_id ORDER BY d.id").fetchall()
    taken: set[tuple[int, str]] = set()
    for rid, form_id, old_key, data in rows:
        code, indicator, ev = (old_key.split("|") + ["", "", ""])[:3]
        new = _flag_position_key(json.loads(data).get("flags") or [], code, indicator, ev)
        n = 0
        while new is None or (form_id, new) in taken:  # the flag is gone: keep the decision under a free key
            new = f"{code}|{indicator}|{n}"
            n += 1
        taken.add((form_id, new))
        c.execute("UPDATE flag_decisions SET flag_key=?, evidence_sha=? WHERE id=?", (new, ev or None, rid))


def m004_reports(c: sqlite3.Connection) -> None:
    """The narrative 绩效评价报告 read from each document (replaced with the document's reading)."""
    c.execute("CREATE TABLE IF NOT EXISTS reports(id INTEGER PRIMARY KEY, document_id INTEGER NOT NULL "
              "REFERENCES documents(id) ON DELETE CASCADE, idx INTEGER NOT NULL, data TEXT NOT NULL)")
    c.execute("CREATE INDEX IF NOT EXISTS reports_document ON reports(document_id, idx)")


def m005_copy_key(c: sqlite3.Connection) -> None:
    """Each form's copy key (:mod:`extractor.core.copies`): copies of one form are one row of the queue."""
    have = {r[1] for r in c.execute("PRAGMA table_info(forms)")}
    if "copy_key" not in have:
        c.execute("ALTER TABLE forms ADD COLUMN copy_key TEXT")
    for r in c.execute("SELECT id, data FROM forms WHERE copy_key IS NULL").fetchall():
        c.execute("UPDATE forms SET copy_key=? WHERE id=?", (copy_key(json.loads(r[1])), r[0]))
    c.execute("CREATE INDEX IF NOT EXISTS forms_copy_key ON forms(copy_key)")


MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [m001_initial, m002_forms_confidence,
                                                           m003_history_identity_imports, m004_reports,
                                                           m005_copy_key]


def version(c: sqlite3.Connection) -> int:
    return int(c.execute("PRAGMA user_version").fetchone()[0])


def migrate(c: sqlite3.Connection) -> int:
    """Run every migration the database has not had (``c`` in autocommit mode); returns its version."""
    have = version(c)
    if have > len(MIGRATIONS):
        raise ExtractorError(f"审核数据库的版本（{have}）比本程序支持的（{len(MIGRATIONS)}）更新。"
                             "请升级本工具后再打开，数据库未作任何改动")
    for n in range(have, len(MIGRATIONS)):
        c.execute("BEGIN IMMEDIATE")
        try:
            if version(c) == n:  # another process may have migrated meanwhile
                MIGRATIONS[n](c)
                c.execute(f"PRAGMA user_version={n + 1}")
        except BaseException:
            c.execute("ROLLBACK")
            raise
        c.execute("COMMIT")
    return version(c)
