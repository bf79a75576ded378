"""A local HTTP server speaking the OpenAI chat-completions protocol, for tests and benchmarks.

It listens on 127.0.0.1 only. Answers come from ``answer(messages)`` (a dict in the LLMForm shape)
and are wrapped the way each instructor mode expects: a tool call when the request carries
``tools``, JSON content when it asks for a ``response_format``, a fenced JSON block otherwise
(MD_JSON). ``script`` is a queue of misbehaviours consumed one per request: ``("status", 429,
{"Retry-After": "1"})``, ``("status", 500)``, ``("invalid",)``, ``("hang", seconds)``,
``("truncate",)``. ``delay`` adds latency to every call (benchmarks). Every request is recorded.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class FakeOpenAI:
    """Start with ``with FakeOpenAI(answer) as srv: srv.base_url``."""

    def __init__(self, answer: Callable[[list[dict[str, Any]]], dict[str, Any]], delay: float = 0.0) -> None:
        self.answer = answer
        self.delay = delay
        self.script: list[tuple] = []
        self.requests: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.in_flight = 0
        self.max_in_flight = 0  # the most requests the server held at once
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))) or b"{}")
                with outer.lock:
                    outer.requests.append({"body": body, "headers": dict(self.headers)})
                    action = outer.script.pop(0) if outer.script else ("ok",)
                    outer.in_flight += 1
                    outer.max_in_flight = max(outer.max_in_flight, outer.in_flight)
                try:
                    self._answer(body, action)
                finally:
                    with outer.lock:
                        outer.in_flight -= 1

            def _answer(self, body: dict[str, Any], action: tuple) -> None:
                if outer.delay:
                    time.sleep(outer.delay)
                kind = action[0]
                if kind == "status":
                    self._send(action[1], {"error": {"message": "scripted error", "type": "server_error"}},
                               action[2] if len(action) > 2 else {})
                    return
                if kind == "echo":  # a careless endpoint that quotes the request's key back
                    self._send(400, {"error": {"message": f"bad request from {self.headers.get('authorization')}",
                                               "type": "invalid_request_error"}})
                    return
                if kind == "hang":
                    time.sleep(action[1])
                    return
                data = outer.answer(body.get("messages", []))
                text = json.dumps(data, ensure_ascii=False)
                finish = "stop"
                if kind == "invalid":
                    text = text[: len(text) // 2] + " not json"
                if kind == "truncate":
                    text, finish = text[: len(text) // 2], "length"
                self._send(200, _completion(body, text, finish))

            def _send(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
                raw = json.dumps(payload, ensure_ascii=False).encode("utf-8")
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(raw)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(raw)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def __enter__(self) -> "FakeOpenAI":
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()


def _completion(req: dict[str, Any], text: str, finish: str) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": None}
    if req.get("tools"):
        name = req["tools"][0]["function"]["name"]
        message["tool_calls"] = [{"id": "call_1", "type": "function", "function": {"name": name, "arguments": text}}]
        if finish == "stop":
            finish = "tool_calls"
    elif req.get("response_format"):
        message["content"] = text
    else:
        message["content"] = f"```json\n{text}\n```"
    prompt_chars = sum(len(str(m.get("content", ""))) for m in req.get("messages", []))
    return {"id": "chatcmpl-fake", "object": "chat.completion", "created": int(time.time()),
            "model": req.get("model", "fake"), "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            "usage": {"prompt_tokens": prompt_chars // 2, "completion_tokens": len(text) // 2,
                      "total_tokens": prompt_chars // 2 + len(text) // 2}}


def answers_from_parser(path: Any) -> Callable[[list[dict[str, Any]]], dict[str, Any]]:
    """Scripted answers: what the parser read from ``path``, for the form named in the prompt."""
    from extractor.core.figures import clean
    from extractor.pipeline.process import process_file
    from extractor.store.contract import result_to_contract

    forms = result_to_contract(process_file(path), provenance=False)["forms"]

    def answer(messages: list[dict[str, Any]]) -> dict[str, Any]:
        text = clean(messages[-1]["content"])
        for f in forms:
            keys = [f.get("project_name"), f.get("department"), (f.get("indicators") or [{}])[0].get("name")]
            if f.get("project_name") and all(clean(k) in text for k in keys if k):
                return llm_form_of(f)
        return {}
    return answer


def answers_for(paths: list[Any]) -> Callable[[list[dict[str, Any]]], dict[str, Any]]:
    """Scripted answers for several files at once."""
    each = [answers_from_parser(p) for p in paths]

    def answer(messages: list[dict[str, Any]]) -> dict[str, Any]:
        for a in each:
            d = a(messages)
            if d:
                return d
        return {}
    return answer


def llm_form_of(form: dict[str, Any]) -> dict[str, Any]:
    """A contract form (gold or export) in the shape the model is asked to return."""
    from extractor.llm.schemas import LLMForm

    d = {k: v for k, v in form.items() if k in LLMForm.model_fields and k not in ("funds", "indicators")}
    d["funds"] = {row: {k: v for k, v in (form.get("funds") or {}).get(row, {}).items()
                        if k in ("initial", "full_year", "executed", "weight", "rate", "score")}
                  for row in ("total", "fiscal", "carryover", "other")}
    d["indicators"] = [{k: i.get(k) for k in ("level1", "level2", "name", "target", "actual", "weight", "score",
                                               "deviation")} for i in form.get("indicators") or []]
    return LLMForm.model_validate(d).model_dump()


def _identity_hits(form: dict[str, Any], text: str) -> int:
    """How many of a form's identifying values the (cleaned) prompt text contains."""
    from extractor.core.figures import clean

    hits = 0
    for key in ("project_name", "department", "implementing_unit"):
        v = clean(str(form.get(key) or ""))
        if len(v) >= 3 and v in text:
            hits += 2
    for ind in (form.get("indicators") or [])[:8]:
        v = clean(str(ind.get("name") or ""))
        if len(v) >= 3 and v in text:
            hits += 1
    return hits


def answers_from_gold(gold_paths: list[Any]) -> Callable[[list[dict[str, Any]]], dict[str, Any]]:
    """An oracle: every call answered with the gold form(s) the prompt's text holds.

    A call about one form gets the gold form that best matches its text; a call about a whole
    document (its prompt asks for ``forms``) gets every gold form found in it, in order. A perfect
    model, for measuring how much of it the LLM step keeps."""
    from extractor.core.figures import clean

    files = [json.loads(open(p, encoding="utf-8").read())["forms"] for p in gold_paths]
    golds = [f for forms in files for f in forms]

    def answer(messages: list[dict[str, Any]]) -> dict[str, Any]:
        text = clean(messages[-1]["content"])
        if "<<<文件开始>>>" in messages[-1]["content"]:  # the document prompt: every form of the file
            best = max(files, key=lambda forms: sum(_identity_hits(g, text) for g in forms), default=[])
            return {"forms": [llm_form_of(g) for g in best if _identity_hits(g, text) >= 2]}
        scored = [(h, i) for i, g in enumerate(golds) if (h := _identity_hits(g, text)) >= 2]
        if not scored:
            return {}
        return llm_form_of(golds[max(scored)[1]])
    return answer


def noisy(answer: Callable[[list[dict[str, Any]]], dict[str, Any]], seed: int = 7, drop: float = 0.1,
          perturb: float = 0.1, invent: float = 0.05) -> tuple[Callable[[list[dict[str, Any]]], dict[str, Any]],
                                                             list[tuple[str, Any]]]:
    """A careless model: each value of ``answer``'s forms is dropped (``drop``), each number perturbed
    (``perturb``), each text replaced by an invented one (``invent``). Returns the answer function and
    the list of (field name, bad value) it has handed out."""
    import hashlib
    import random

    bad: list[tuple[str, Any]] = []

    def spoil(obj: dict[str, Any], rng: random.Random) -> None:
        for k, v in list(obj.items()):
            if isinstance(v, dict):
                spoil(v, rng)
            elif isinstance(v, list):
                for x in v:
                    if isinstance(x, dict):
                        spoil(x, rng)
            elif v is None or k == "year":
                continue
            elif rng.random() < drop:
                obj[k] = None
            elif isinstance(v, (int, float)) and rng.random() < perturb:
                new = round(v + rng.choice([1, -1, 0.5, 2.5, v * 0.1 or 1]), 2)
                obj[k] = new
                bad.append((k, new))
            elif isinstance(v, str) and rng.random() < invent:
                new = rng.choice(["全面完成年度目标", "98.5%", "张伟", "13912345678", "按期完成"]) + str(rng.randint(1, 99))
                obj[k] = new
                bad.append((k, new))

    def answer_noisy(messages: list[dict[str, Any]]) -> dict[str, Any]:
        d = json.loads(json.dumps(answer(messages)))
        # the same damage for the same request, whatever order concurrent requests arrive in
        digest = hashlib.sha256(json.dumps(messages, ensure_ascii=False).encode()).hexdigest()
        rng = random.Random(f"{seed}:{digest}")
        for form in d.get("forms", [d]):
            spoil(form, rng)
        return d
    return answer_noisy, bad


def wrong_model_values(gold: dict, pred: dict) -> tuple[int, list[str]]:
    """How many exported values the model supplied, and those that differ from the gold."""
    from evalkit.metrics import eq, match_forms
    from extractor.core.alignment import align_rows

    n, wrong = 0, []
    pairs, _ = match_forms(gold["forms"], pred["forms"])
    for gi, pi in pairs:
        if pi is None:
            continue
        g, p = gold["forms"][gi], pred["forms"][pi]
        rows = {j: i for i, j in align_rows(g.get("indicators") or [], p.get("indicators") or []).items()}
        for path, info in (p.get("llm") or {}).get("values", {}).items():
            if info["source"] != "model":
                continue
            parts = path.split(".")
            if parts[0] == "indicators":
                k = int(parts[1])
                if k not in rows:
                    continue  # a row the gold does not have is scored as a row, not here
                want, got = g["indicators"][rows[k]].get(parts[2]), p["indicators"][k].get(parts[2])
            elif parts[0] == "funds":
                want, got = (g["funds"].get(parts[1]) or {}).get(parts[2]), p["funds"][parts[1]].get(parts[2])
            else:
                want, got = g.get(path), p.get(path)
            n += 1
            if not eq(want, got, level=parts[-1] in ("level1", "level2")):
                wrong.append(f"{path}: {got!r}（标准 {want!r}）")
    return n, wrong
