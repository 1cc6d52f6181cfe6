"""``imgpar.run(..., engine=E)``: the plan made once on the driver, its rows handed to a
cluster's workers in batches, each batch converted there with every guarantee of a run,
the batches' reports merged here. E is a ``dask.distributed.Client``, a
``pyspark.sql.SparkSession`` or ``"ray"``; none of them is imported unless used."""

from __future__ import annotations

import math
import os
import time
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from ._plan import Plan, PlanHeader, PlanRow, convert_batch
from ._report import Report, merge_reports

#: A batch as a task receives it: its rows' lines, its index and the number of batches.
_Batch = Tuple[List[str], int, int]

#: How tasks run on an engine: the header and the batches in, the batches' report texts
#: out (in batch order).
_Submit = Callable[[PlanHeader, Sequence[_Batch]], List[str]]

#: Batches per core of the engine when no ``batch_size`` is given: enough for the engine
#: to balance uneven images, few enough that a batch's overhead stays small.
_BATCHES_PER_CORE = 4


def run_on(
    engine: Tuple[_Submit, int],
    plan: Plan,
    *,
    batch_size: Optional[int],
    report: Optional[Any],
) -> Report:
    """Converts ``plan`` on ``engine`` (what ``engine_of`` gives) and returns the merged
    report; with ``report``, the batches' reports are written into that folder."""
    started = time.perf_counter()
    submit, cores = engine
    if batch_size is None:
        batch_size = max(1, math.ceil(len(plan) / (cores * _BATCHES_PER_CORE)))
    batches = plan.line_batches(batch_size)
    folder = _report_folder(report, len(batches))
    header = plan.header
    tasks: List[_Batch] = [(lines, index, len(batches)) for index, lines in enumerate(batches)]
    texts = submit(header, tasks)
    reports = [Report(**_fields(text)) for text in texts]
    if folder is not None:
        for index, text in enumerate(texts):
            _write_new(os.path.join(folder, _batch_name(index, len(batches))), text)
    merged = merge_reports(reports)
    merged.totals["engine_wall_s"] = time.perf_counter() - started
    return merged


def convert_task(header: PlanHeader, batch: _Batch, jobs: int) -> str:
    """What a task runs: one batch converted; its report's text (a report file's)."""
    lines, index, count = batch
    rows = [PlanRow(line) for line in lines]
    return convert_batch(rows, header, index=index, count=count, jobs=jobs).to_json()


def _fields(text: str) -> Dict[str, Any]:
    """A ``Report``'s fields from a report file's text."""
    import json

    totals = json.loads(text)
    totals.pop("format", None)
    images = totals.pop("images")
    return dict(
        ok=totals.get("ok", 0),
        failed=totals.get("failed", 0),
        skipped=totals.get("skipped", 0),
        images=images,
        totals=totals,
    )


def engine_of(engine: Any, jobs: Optional[int]) -> Tuple[_Submit, int]:
    """How to run tasks on ``engine`` (a function of the header and the batches returning
    the batches' report texts, in batch order), and how many cores it has. Each task
    converts with ``jobs`` threads, or the CPUs the engine gives a task."""
    if isinstance(engine, str):
        if engine != "ray":
            raise ValueError(f'engine={engine!r}: give "ray", a Dask Client or a SparkSession')
        return _ray(jobs or 1)
    kind = type(engine).__module__.split(".")[0]
    if kind == "distributed" or type(engine).__name__ == "Client" and kind == "dask":
        return _dask(engine, jobs or 1)
    if kind == "pyspark":
        return _spark(engine, jobs)
    raise TypeError(
        f"engine= is a dask.distributed.Client, a pyspark.sql.SparkSession or \"ray\", "
        f"not {type(engine).__name__}"
    )


def _dask(client: Any, jobs: int) -> Tuple[_Submit, int]:
    """Dask: one task per batch (``pure=False``: a batch given twice runs twice); a lost
    worker's tasks run again elsewhere."""

    def submit(header: PlanHeader, tasks: Sequence[_Batch]) -> List[str]:
        futures = client.map(
            convert_task, [header] * len(tasks), tasks, [jobs] * len(tasks), pure=False
        )
        return list(client.gather(futures))

    threads = sum(client.nthreads().values()) or 1
    return submit, int(threads)


def _spark(session: Any, jobs: Optional[int]) -> Tuple[_Submit, int]:
    """Spark: one partition per batch, ``spark.task.cpus`` threads each unless ``jobs``
    says; a failed or speculative task's copy finds the outputs the first made and skips
    them."""
    context = session.sparkContext
    if jobs is None:
        jobs = int(context.getConf().get("spark.task.cpus", "1"))

    def submit(header: PlanHeader, tasks: Sequence[_Batch]) -> List[str]:
        shared = context.broadcast(header)
        partitions = context.parallelize(list(tasks), len(tasks))
        return list(partitions.map(lambda task: convert_task(shared.value, task, jobs)).collect())

    return submit, int(context.defaultParallelism or 1)


def _ray(jobs: int) -> Tuple[_Submit, int]:
    """Ray: one remote task per batch, asking ``jobs`` CPUs; Ray retries a task whose
    worker died."""
    import ray

    if not ray.is_initialized():
        ray.init()
    remote = ray.remote(num_cpus=jobs)(convert_task)

    def submit(header: PlanHeader, tasks: Sequence[_Batch]) -> List[str]:
        shared = ray.put(header)
        return list(ray.get([remote.remote(shared, task, jobs) for task in tasks]))

    cpus = getattr(ray, "available_resources")().get("CPU", 1)  # untyped in Ray
    return submit, int(cpus) or 1


def _report_folder(report: Optional[Any], batches: int) -> Optional[str]:
    """The folder the batches' reports go into, made if missing; ``RunError`` when a
    report of that name is there already (reports are never replaced)."""
    if report is None:
        return None
    from . import RunError

    folder = str(os.fspath(report))
    if os.path.isfile(folder):
        raise RunError(f"report={folder}: with an engine, report= is a folder of batch reports", 2)
    os.makedirs(folder, exist_ok=True)
    for index in range(batches):
        name = os.path.join(folder, _batch_name(index, batches))
        if os.path.exists(name):
            raise RunError(f"{name} exists already: reports are never replaced", 2)
    return folder


def _batch_name(index: int, count: int) -> str:
    width = max(5, len(str(count)))
    return f"batch-{index:0{width}}-of-{count:0{width}}.json"


def _write_new(path: str, text: str) -> None:
    """Writes ``text`` at ``path``, create-only, whole or not at all."""
    partial = f"{path}.partial-{os.getpid()}"
    with open(partial, "w", encoding="utf-8") as file:
        file.write(text)
    try:
        os.link(partial, path)
    finally:
        os.unlink(partial)
