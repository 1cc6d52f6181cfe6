"""Thumbnails of a folder on Spark (here `local[2]`; any master the session names).

    PYSPARK_PYTHON=$(which python) python examples/python/spark_thumbnails.py IN OUT

imgpar plans once on the driver, Spark runs a task per batch (a partition each); a
retried or speculative task finds the outputs another copy wrote and skips them. The
executors' Python must have imgpar installed (PYSPARK_PYTHON). Needs
`pip install ./python[spark]` and Java.
"""

import sys

from pyspark.sql import SparkSession

import imgpar

if __name__ == "__main__":
    src, dst = sys.argv[1], sys.argv[2]
    spark = SparkSession.builder.master("local[2]").appName("imgpar").getOrCreate()
    try:
        report = imgpar.run(src, dst, engine=spark, size=(256, 256), format="png",
                            report=dst + ".reports")
    finally:
        spark.stop()
    print(f"{report.ok} converted, {report.skipped} skipped, {report.failed} failed; "
          f"complete: {report.complete}; check: imgpar merge-reports {dst}.reports")
    sys.exit(report.exit_code)
