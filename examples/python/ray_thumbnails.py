"""Thumbnails of a folder with Ray (local, or the cluster `ray.init` connects to).

    python examples/python/ray_thumbnails.py IN OUT [--data]

By default imgpar plans once here and runs one Ray task per batch (`num_cpus=1` each);
with --data, the plan's rows go through Ray Data's `map_batches` instead, and
`Plan.report` checks that every image has its record. Either way names are decided over
the whole folder, outputs are written create-only, and a re-run skips what is done.
Needs `pip install ./python[ray]`.
"""

import json
import sys

import ray

import imgpar

if __name__ == "__main__":
    src, dst = sys.argv[1], sys.argv[2]
    ray.init()
    if "--data" in sys.argv[3:]:
        plan = imgpar.plan(src, dst, size=(256, 256), format="png", skip_existing=True)
        rows = ray.data.from_items([{"row": row.line} for row in plan])
        converted = rows.map_batches(imgpar.RowConverter(plan.header), batch_size=64)
        report = plan.report(json.loads(r["record"]) for r in converted.take_all())
    else:
        report = imgpar.run(src, dst, engine="ray", size=(256, 256), format="png")
    print(f"{report.ok} converted, {report.skipped} skipped, {report.failed} failed; "
          f"complete: {report.complete}")
    sys.exit(report.exit_code)
