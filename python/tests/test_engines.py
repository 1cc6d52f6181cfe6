"""imgpar on the engines data engineers run, each a real local cluster started here: Dask
(``LocalCluster`` of two worker processes), Ray (local) and Spark (``local[2]``, Java from
Debian). Every engine converts a folder with name collisions, sub-folders and a broken file
into exactly what ``imgpar IN OUT`` writes, with reports ``imgpar merge-reports`` calls
complete; a second call writes nothing; a task run twice or a worker killed mid-batch
loses nothing and fails nothing twice. Also the plan as data (``plan``, ``convert``,
``convert_batch``, ``merge_reports``) without an engine, and Ray Data's transform."""

import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

import imgpar
from conftest import BROKEN, IMAGES, imgpar_command

ENGINES = ["dask", "ray", "spark"]


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """Images whose names collide once their extension is the output's (a.jpg, a.png,
    a.webp), images in sub-folders (one named as a top-level one), and a broken file."""
    root = tmp_path_factory.mktemp("engines") / "in"
    (root / "sub" / "deeper").mkdir(parents=True)
    for name, fixture in [
        ("a.jpg", "baseline_420.jpg"),
        ("a.png", "rgb8.png"),
        ("a.webp", "picture.webp"),
        ("b.gif", "picture.gif"),
        ("sub/a.jpg", "gray.jpg"),
        ("sub/c.png", "alpha.png"),
        ("sub/deeper/a.tiff", "picture.tiff"),
        ("progressive.jpg", "progressive.jpg"),
    ]:
        shutil.copy(IMAGES / fixture, root / name)
    shutil.copy(BROKEN / "truncated.jpg", root / "sub" / "broken.jpg")
    return root


def tree(folder):
    """Every file below `folder` (a killed worker's hidden temporary files aside) and its
    bytes."""
    return {
        p.relative_to(folder): p.read_bytes()
        for p in Path(folder).rglob("*")
        if p.is_file() and not p.name.startswith(".imgpar-")
    }


@pytest.fixture(scope="module")
def expected(folder, tmp_path_factory):
    """What the command writes for the folder, in PNG."""
    out = tmp_path_factory.mktemp("cli") / "out"
    done = subprocess.run(
        [imgpar_command(), str(folder), str(out), "--format", "png", "--quiet"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1, done.stderr  # the broken file
    return tree(out)


@pytest.fixture(scope="module")
def dask_client():
    from dask.distributed import Client, LocalCluster

    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster, Client(cluster) as client:
        yield client


@pytest.fixture(scope="module")
def ray_engine():
    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield "ray"
    ray.shutdown()


@pytest.fixture(scope="module")
def spark_session():
    # The executors' Python is this one (with imgpar installed), not the system's.
    os.environ["PYSPARK_PYTHON"] = sys.executable
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("imgpar-tests")
        .config("spark.ui.enabled", "false")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(params=ENGINES)
def engine(request):
    return request.getfixturevalue(
        {"dask": "dask_client", "ray": "ray_engine", "spark": "spark_session"}[request.param]
    )


def merge_reports_command(folder):
    return subprocess.run(
        [imgpar_command(), "merge-reports", str(folder)], capture_output=True, text=True
    )


def test_an_engine_converts_a_folder_as_the_command_does(engine, folder, expected, tmp_path):
    out, reports = tmp_path / "out", tmp_path / "reports"
    report = imgpar.run(folder, out, engine=engine, format="png", batch_size=3, report=reports)
    assert tree(out) == expected
    assert report.complete and report.exit_code == 1
    assert (report.ok, report.failed, report.skipped) == (len(expected), 1, 0)
    (failed,) = [r for r in report.images if r["status"] == "failed"]
    assert failed["input"].endswith("sub/broken.jpg") and failed["error_kind"] == "corrupt"
    merged = merge_reports_command(reports)
    assert merged.returncode == 1, merged.stderr  # complete, one image failed
    assert "complete: the shards add up to exactly the plan" in merged.stderr
    assert len(list(reports.iterdir())) == report.totals["shard_count"] == 3

    # A second call writes nothing: every output is skipped (the broken file fails again).
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*")}
    again = imgpar.run(folder, out, engine=engine, format="png", batch_size=3)
    assert (again.ok, again.skipped, again.failed) == (0, len(expected), 1)
    assert again.complete
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*")} == before
    # The batch reports are never replaced: a third call into the same folder is refused
    # before any batch runs.
    kept = {p: p.read_bytes() for p in reports.iterdir()}
    with pytest.raises(imgpar.RunError, match="exists already"):
        imgpar.run(folder, out, engine=engine, format="png", batch_size=3, report=reports)
    assert {p: p.read_bytes() for p in reports.iterdir()} == kept


def test_a_batch_converted_twice_at_once_fails_nothing(engine, folder, expected, tmp_path):
    # An engine's retried or speculative task: the same batch sent twice, side by side.
    out = tmp_path / "out"
    plan = imgpar.plan(folder, out, format="png", skip_existing=True)
    (batch,) = plan.batches(len(plan))
    task = ([row.line for row in batch], 0, 1)
    from imgpar import _engines

    submit, _ = _engines.engine_of(engine, 1)
    first, second = (json.loads(text) for text in submit(plan.header, [task, task]))
    assert tree(out) == expected
    for report in (first, second):
        assert report["failed"] == 1  # the broken file, in each copy
        assert report["ok"] + report["skipped"] == len(expected)
    # Each image was written once: by one copy, skipped by the other.
    assert first["ok"] + second["ok"] == len(expected)


def test_a_worker_killed_mid_batch_loses_nothing(dask_client, tmp_path):
    from distributed import WorkerPlugin

    src = tmp_path / "src"
    src.mkdir()
    photo = (IMAGES / "baseline_444.jpg").read_bytes()
    for i in range(48):
        (src / f"{i:02}.jpg").write_bytes(photo)
    marker = tmp_path / "killed"

    class KillOnce(WorkerPlugin):
        """Kills the worker process running the first batch, once, shortly after it starts."""

        def transition(self, key, start, finish, **kwargs):
            if finish != "executing" or "convert_task" not in str(key):
                return
            try:
                os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
            except FileExistsError:
                return
            threading.Timer(0.05, os._exit, args=(1,)).start()

    dask_client.register_plugin(KillOnce(), name="kill-once")
    try:
        out = tmp_path / "out"
        report = imgpar.run(src, out, engine=dask_client, format="png", batch_size=8)
    finally:
        dask_client.unregister_worker_plugin("kill-once")
    assert marker.exists(), "no worker was killed"
    assert report.complete and report.failed == 0 and report.exit_code == 0
    assert report.ok + report.skipped == 48
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".imgpar-")) == [
        f"{i:02}.png" for i in range(48)
    ]
    single = imgpar.thumbnail(photo, format="png")
    assert all(imgpar.without_provenance(p.read_bytes()) == single for p in out.glob("*.png"))


def test_ray_data_converts_a_dataset_of_plan_rows(ray_engine, folder, expected, tmp_path):
    import ray

    plan = imgpar.plan(folder, tmp_path / "out", format="png")
    rows = ray.data.from_items([{"row": row.line} for row in plan])
    converted = rows.map_batches(imgpar.RowConverter(plan.header), batch_size=2).take_all()
    report = plan.report(json.loads(row["record"]) for row in converted)
    assert report.complete and (report.ok, report.failed) == (len(expected), 1)
    assert tree(tmp_path / "out") == expected
    # Half the records do not make the plan done.
    assert not plan.report(json.loads(row["record"]) for row in converted[::2]).complete


def test_ray_data_thumbnails_a_dataset_of_binary_files(ray_engine, folder):
    import ray

    files = ray.data.read_binary_files(str(folder), include_paths=True)
    settings = imgpar.Settings(size=(64, 64))
    made = files.map_batches(imgpar.RowConverter(settings=settings), batch_size=4).take_all()
    by_name = {Path(row["path"]).name: row for row in made}
    assert by_name["broken.jpg"]["thumbnail"] is None and by_name["broken.jpg"]["error"]
    data = (folder / "a.png").read_bytes()
    assert by_name["a.png"]["thumbnail"] == imgpar.thumbnail(data, settings=settings)


def test_the_plan_as_data_converts_row_by_row(folder, expected, tmp_path):
    out = tmp_path / "out"
    plan = imgpar.plan(folder, out, format="png")
    assert len(plan) == len(expected) + 1 == plan.header.images
    # The broken file is planned as any image: it fails as it converts.
    assert {row.output for row in plan} == {str(p) for p in expected} | {"sub/broken.png"}
    records = [imgpar.convert(row, plan.header) for row in plan]
    assert tree(out) == expected
    assert [r["status"] for r in records].count("failed") == 1
    # Converted again (a retried task), a row finds its own output: converted, nothing
    # written, nothing failed.
    again = imgpar.convert(plan.rows[0], plan.header)
    assert again["status"] == "ok" and again["bytes_out"] == 0
    # Batches merge into the plan's report; one missing, the merge says so.
    batches = plan.batches(4)
    reports = [
        imgpar.convert_batch(rows, plan.header, index=i, count=len(batches))
        for i, rows in enumerate(batches)
    ]
    assert imgpar.merge_reports(reports).complete
    assert reports[1].totals["shard"] == {
        "index": 1, "count": len(batches), "source": "rows",
        "plan_images": len(plan), "shard_images": 4,
    }
    partial = reports[0].merge(*reports[2:])
    assert not partial.complete and partial.totals["missing_shards"] == [1]
    assert partial.exit_code == 4


def test_urls_given_in_memory(tmp_path):
    import functools
    import glob
    import http.server
    import tempfile

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=str(IMAGES))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{server.server_port}"
        lists_before = set(glob.glob(os.path.join(tempfile.gettempdir(), "imgpar-urls-*")))
        report = imgpar.run(
            urls=[f"{base}/rgb8.png", f"{base}/gray.jpg"], output=tmp_path / "out", format="png"
        )
    finally:
        server.shutdown()
    assert (report.ok, report.failed) == (2, 0)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["gray.png", "rgb8.png"]
    assert set(glob.glob(os.path.join(tempfile.gettempdir(), "imgpar-urls-*"))) == lists_before


def test_a_plan_that_cannot_start_and_an_engine_not_known(folder, tmp_path):
    with pytest.raises(imgpar.RunError) as raised:
        imgpar.plan(tmp_path / "missing", tmp_path / "out")
    assert raised.value.code == 2
    with pytest.raises(ValueError, match="engine="):
        imgpar.run(folder, tmp_path / "out", engine="nothing")
    with pytest.raises(TypeError, match="progress="):
        imgpar.run(folder, tmp_path / "out", engine="ray", progress=print)
    assert not (tmp_path / "out").exists()
