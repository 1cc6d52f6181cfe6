"""imgpar.run(..., engine=E) against the command on the same folder: the seconds from
handing out the batches to their merge (``engine_wall_s``, the cluster already up), median
of RUNS (env, default 3) fresh runs, beside ``imgpar IN OUT`` with the same settings.

    VENV/bin/python benches/engines.py IN dask|ray|spark [IMGPAR]

IN is a folder of photos (``../shared/bench/corpus.sh /tmp/corpus``); the engine a local
cluster of 2 CPUs (Dask LocalCluster of 2 processes, Ray, Spark local[2]); IMGPAR the
command (default target/release/imgpar). Needs the package installed with the engine's
extra (``pip install ./python[dask]``...).
"""

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import imgpar

RUNS = int(os.environ.get("RUNS", 3))
FLAGS = dict(size=(256, 256), format="png")


def median_of(run):
    walls = []
    for _ in range(RUNS):
        out = tempfile.mkdtemp(prefix="imgpar-engines-")
        try:
            walls.append(run(os.path.join(out, "out")))
        finally:
            shutil.rmtree(out)
    return statistics.median(walls), walls


def command(src, imgpar_bin):
    def run(out):
        started = time.perf_counter()
        args = [imgpar_bin, src, out, "--size", "256x256", "--format", "png", "-q"]
        subprocess.run(args, check=False)
        return time.perf_counter() - started

    return run


def on(src, engine):
    def run(out):
        report = imgpar.run(src, out, engine=engine, **FLAGS)
        assert report.complete, report.totals
        return report.totals["engine_wall_s"]

    return run


def main(src, which, imgpar_bin):
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    cli, _ = median_of(command(src, imgpar_bin))
    if which == "dask":
        from dask.distributed import Client, LocalCluster

        with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster:
            with Client(cluster) as client:
                wall, walls = median_of(on(src, client))
    elif which == "ray":
        import ray

        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
        wall, walls = median_of(on(src, "ray"))
    elif which == "spark":
        from pyspark.sql import SparkSession

        spark = SparkSession.builder.master("local[2]").config("spark.ui.enabled", "false")
        spark = spark.getOrCreate()
        spark.sparkContext.setLogLevel("ERROR")
        wall, walls = median_of(on(src, spark))
        spark.stop()
    else:
        sys.exit(f"no engine {which!r}: dask, ray or spark")
    shown = ", ".join(f"{w:.2f}" for w in walls)
    print(f"{which}: {wall:.2f} s ({shown}); imgpar command {cli:.2f} s; ratio {wall / cli:.2f}x")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else "target/release/imgpar")
