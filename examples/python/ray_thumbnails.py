"""Thumbnails of a folder with Ray (local, `ray.init(num_cpus=2)`), imgpar doing the
image work.

    python examples/python/ray_thumbnails.py IN OUT

One Ray task per batch of files, `num_cpus=1` each: a task converts its files one after
another on one core (imgpar releases the GIL, but Ray already gives each core a task), so
tasks and cores match and nothing is oversubscribed. Only paths and small results cross
Ray's object store; `imgpar.Settings` and `imgpar.ImageError` pickle.
"""

import os
import sys
import time

import ray

import imgpar

SETTINGS = imgpar.Settings(size=(256, 256), format="png")


@ray.remote(num_cpus=1)
def convert(jobs, settings):
    """A batch of images: the status of each ("ok" or the report's error kind)."""
    done = []
    for src, dst in jobs:
        try:
            data = imgpar.thumbnail_file(src, settings=settings)
        except imgpar.ImageError as error:
            done.append((src, error.kind))
            continue
        with open(dst, "wb") as out:
            out.write(data)
        done.append((src, "ok"))
    return done


def main(src, dst):
    os.makedirs(dst, exist_ok=True)
    jobs = [
        (os.path.join(src, name), os.path.join(dst, os.path.splitext(name)[0] + ".png"))
        for name in sorted(os.listdir(src))
        if os.path.isfile(os.path.join(src, name))
    ]
    ray.init(num_cpus=2, include_dashboard=False)
    started = time.perf_counter()
    batches = [jobs[i : i + 8] for i in range(0, len(jobs), 8)]
    results = [r for batch in ray.get([convert.remote(b, SETTINGS) for b in batches]) for r in batch]
    took = time.perf_counter() - started
    ok = sum(1 for _, status in results if status == "ok")
    print(f"{ok} of {len(jobs)} converted in {took:.2f} s by Ray tasks on 2 CPUs")
    for src_path, status in results:
        if status != "ok":
            print(f"  {src_path}: {status}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
