"""Thumbnails of a folder with Dask's local scheduler, imgpar doing the image work.

    python examples/python/dask_thumbnails.py IN OUT

imgpar releases the GIL while it converts, so Dask's threaded scheduler runs one image per
core in one process: no pickling of pixels, no process per task. Give Dask as many
threads as cores, and never combine them with imgpar's own pools (`imgpar.run` with
`jobs=`) inside a task, or the machine is oversubscribed.
"""

import os
import sys
import time

import dask
import dask.bag

import imgpar

SETTINGS = imgpar.Settings(size=(256, 256), format="png")


def convert(job):
    """One image: its thumbnail written next to the others, or the reason it failed."""
    src, dst = job
    try:
        data = imgpar.thumbnail_file(src, settings=SETTINGS)
    except imgpar.ImageError as error:
        return (src, error.kind)
    with open(dst, "wb") as out:
        out.write(data)
    return (src, "ok")


def main(src, dst):
    os.makedirs(dst, exist_ok=True)
    jobs = [
        (os.path.join(src, name), os.path.join(dst, os.path.splitext(name)[0] + ".png"))
        for name in sorted(os.listdir(src))
        if os.path.isfile(os.path.join(src, name))
    ]
    cores = os.cpu_count() or 1
    started = time.perf_counter()
    with dask.config.set(scheduler="threads", num_workers=cores):
        results = dask.bag.from_sequence(jobs, npartitions=cores * 4).map(convert).compute()
    took = time.perf_counter() - started
    ok = sum(1 for _, status in results if status == "ok")
    print(f"{ok} of {len(jobs)} converted in {took:.2f} s on {cores} threads")
    for src_path, status in results:
        if status != "ok":
            print(f"  {src_path}: {status}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
