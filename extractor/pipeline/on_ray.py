"""A batch on a Ray cluster: the same two task functions as on this machine, mapped with Ray tasks.

:func:`~extractor.pipeline.parallel.map_files` drives both engines; here a file is a Ray task
(:func:`~extractor.pipeline.parallel.run_file`, one CPU) and a page of a multi-page scan is one too
(:func:`~extractor.ocr.pages.read_page`), so a 300-page scan spreads over the cluster like 300
one-page scans. Results come back to this process, which writes every output, the summary and the
resume ledger alone: inputs must be on a path every node can read (a shared filesystem, or object
storage mounted on every node); outputs need only be writable here.

``local`` starts a Ray instance on this machine (for trying and for the tests); ``auto`` joins the
cluster this machine belongs to; ``ray://host:port`` connects through Ray Client. Ray is an optional
extra (``pip install '.[cluster]'``).
"""

from __future__ import annotations

import logging
import os
from typing import Any

from extractor.core.config import ReviewConfig
from extractor.core.cores import cores
from extractor.core.errors import ExtractorError
from extractor.ocr import pages as ocr_pages
from extractor.pipeline.parallel import run_file
from extractor.pipeline.resume import code_hash

# passed to every Ray worker: the OCR settings the user gave this process (never API keys)
FORWARDED_ENV = ("EXTRACTOR_OCR_CACHE",)


class ClusterError(ExtractorError):
    """Ray missing, the cluster unreachable, or its nodes running other code than this machine."""


def _ray():  # type: ignore[no-untyped-def]
    try:
        import ray
    except ImportError as exc:
        raise ClusterError("未安装 Ray：请先安装集群扩展，pip install '.[cluster]'（或 pip install ray）") from exc
    return ray


def _worker_code() -> str:
    return code_hash()


def _here(cwd: str) -> None:
    """Paths as this process gave them: relative ones resolve against its folder, on the shared filesystem."""
    if os.path.isdir(cwd):
        os.chdir(cwd)


def _file_task(cwd: str, path: str, config: ReviewConfig | None, pages: dict) -> tuple:
    _here(cwd)
    return run_file(path, config, pages)


def _page_task(cwd: str, path: str, kind: str, index: int):  # type: ignore[no-untyped-def]
    _here(cwd)
    return ocr_pages.read_page(path, kind, index)


class RayEngine:
    """Ray tasks for the files and pages of a batch (see :class:`~extractor.pipeline.parallel.Engine`)."""

    def __init__(self, address: str, workers: int = 0) -> None:
        ray = self.ray = _ray()
        env = {"EXTRACTOR_OCR_THREADS": "1"}  # one CPU per task: onnxruntime uses one thread
        env |= {k: os.environ[k] for k in FORWARDED_ENV if k in os.environ}
        opts: dict[str, Any] = dict(runtime_env={"env_vars": env}, log_to_driver=False,
                                    logging_level=logging.ERROR, include_dashboard=False)
        try:
            if address == "local":
                ray.init(num_cpus=workers or cores(), **opts)
            else:
                ray.init(address=address, **opts)
        except Exception as exc:
            raise ClusterError(f"无法连接 Ray 集群「{address}」：{type(exc).__name__}: {exc}。"
                               "请确认地址正确、集群已启动（ray start --head），本机与集群的 Ray 和 Python 版本一致") from exc
        self.cpus = int(ray.cluster_resources().get("CPU", 1))
        self.nodes = sum(1 for n in ray.nodes() if n.get("Alive"))
        self.slots = workers or self.cpus
        self.lost = (ray.exceptions.WorkerCrashedError, ray.exceptions.NodeDiedError, ray.exceptions.ObjectLostError,
                     ray.exceptions.OwnerDiedError, ray.exceptions.OutOfMemoryError,
                     ray.exceptions.LocalRayletDiedError)
        # our own retry rule (once, then the file fails with the same message as on this machine)
        self._file = ray.remote(num_cpus=1, max_retries=0)(_file_task)
        self._page = ray.remote(num_cpus=1, max_retries=0)(_page_task)
        self.cwd = os.getcwd()
        theirs = ray.get(ray.remote(num_cpus=0)(_worker_code).remote())
        if theirs != code_hash():
            self.close()
            raise ClusterError("集群节点上安装的 extractor 与本机的代码不同，结果将不一致；"
                               "请在每个节点安装同一版本（同一镜像或同一提交）后再运行")

    def describe(self) -> str:
        return f"Ray：{self.nodes} 个节点、{self.cpus} 个 CPU，同时处理至多 {self.slots} 个文件"

    def submit_file(self, path: str, config: ReviewConfig | None, pages: dict) -> Any:
        return self._file.remote(self.cwd, path, config, pages)

    def submit_page(self, path: str, kind: str, index: int) -> Any:
        return self._page.remote(self.cwd, path, kind, index)

    def wait(self, handles: list[Any]) -> list[Any]:
        ready, _ = self.ray.wait(handles, num_returns=1)
        return ready

    def result(self, handle: Any) -> Any:
        try:
            return self.ray.get(handle)
        except self.ray.exceptions.RayTaskError as exc:  # raised inside the task: that error, as locally
            raise (exc.cause if isinstance(exc.cause, Exception) else exc) from None

    def close(self) -> None:
        self.ray.shutdown()
