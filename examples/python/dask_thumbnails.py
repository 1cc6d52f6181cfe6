"""Thumbnails of a folder on a Dask cluster (here a LocalCluster of two worker processes).

    python examples/python/dask_thumbnails.py IN OUT

imgpar plans once here (names decided over the whole folder: sub-folders kept, a.jpg and
a.png both kept), Dask runs the batches, each task converts its batch with every
guarantee of a run, and the batches' reports come back merged. Run it again: nothing is
written, everything is skipped. Needs `pip install ./python[dask]`.
"""

import sys

from dask.distributed import Client, LocalCluster

import imgpar

if __name__ == "__main__":
    src, dst = sys.argv[1], sys.argv[2]
    with LocalCluster(n_workers=2, threads_per_worker=1) as cluster, Client(cluster) as client:
        report = imgpar.run(src, dst, engine=client, size=(256, 256), format="png")
    print(f"{report.ok} converted, {report.skipped} skipped, {report.failed} failed; "
          f"complete: {report.complete} ({report.totals['engine_wall_s']:.2f} s)")
    for record in report.images:
        if record["status"] == "failed":
            print(f"  {record['input']}: {record['error']}")
    sys.exit(report.exit_code)
