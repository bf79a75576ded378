"""The package as a user installs it: a wheel built from the checkout, installed into a new virtual
environment (its dependencies seen from the project's), runs ``extractor extract`` and the LLM step
against a local fake endpoint from a folder outside the checkout, so nothing is read from the source
tree (prompts, vocabulary and review defaults ship as package data)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest
from conftest import ROOT
from fake_openai import FakeOpenAI, answers_for

SAMPLE = ROOT / "samples" / "001_cc20b351adbf8378.txt"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(base / "dist"),
                    str(ROOT)], check=True, capture_output=True, timeout=600)
    wheel = next((base / "dist").glob("*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    for data in ("extractor/core/vocabulary.toml", "extractor/core/review_defaults.toml",
                 "prompts/form_extract.v1.toml", "extractor/reading/build.py", "evalkit/metrics.py"):
        assert data in names, f"{data} missing from the wheel"
    env_dir = base / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    py = env_dir / "bin" / "python"
    purelib = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             check=True, capture_output=True, text=True).stdout.strip()
    # the dependencies come from the project's environment (offline); the package only from the wheel
    Path(purelib, "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(py), "install", "--no-deps", "--no-index", "-q",
                    str(wheel)], check=True, capture_output=True, timeout=600)
    return env_dir


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EXTRACTOR_", "OPENAI_", "PYTHONPATH"))}
    return {**env, **extra}


def test_the_installed_wheel_extracts_outside_the_checkout(installed: Path, tmp_path: Path) -> None:
    where = subprocess.run([str(installed / "bin" / "python"), "-c", "import extractor, prompts; "
                            "print(extractor.__file__); print(prompts.__file__)"], cwd=tmp_path,
                           capture_output=True, text=True, env=_env(), check=True).stdout
    assert str(ROOT) not in where and str(installed) in where
    p = subprocess.run([str(installed / "bin" / "extractor"), "review", str(SAMPLE), "-o", str(tmp_path / "out"),
                        "-q"], cwd=tmp_path, capture_output=True, text=True, env=_env(), timeout=600)
    assert p.returncode == 0, p.stderr
    data = json.loads((tmp_path / "out" / f"{SAMPLE.stem}.json").read_text(encoding="utf-8"))
    assert len(data["forms"]) == 5 and any(f["flags"] for f in data["forms"])


def test_the_installed_wheel_runs_the_llm_step(installed: Path, tmp_path: Path) -> None:
    with FakeOpenAI(answers_for([SAMPLE])) as srv:
        env = _env(EXTRACTOR_LLM_BASE_URL=srv.base_url, EXTRACTOR_LLM_API_KEY="sk-test-wheel",
                   EXTRACTOR_LLM_MODEL="fake-model", EXTRACTOR_LLM_CACHE_DIR=str(tmp_path / "cache"))
        p = subprocess.run([str(installed / "bin" / "extractor"), "extract", str(SAMPLE), "--llm", "--llm-scope",
                            "all", "-o", str(tmp_path / "llm")], cwd=tmp_path, capture_output=True, text=True,
                           env=env, timeout=600)
    assert p.returncode == 0, p.stderr
    assert srv.requests, "the installed package never called the model"
    assert "失败 0 次" in p.stdout
    data = json.loads((tmp_path / "llm" / f"{SAMPLE.stem}.json").read_text(encoding="utf-8"))
    assert all(f.get("llm") for f in data["forms"] if not f.get("is_fragment"))
