"""imgpar's Python package on the peers' job: every image of IN to a gray thumbnail inside
SIZE x SIZE (env, default 256) as FMT (env, png or jpg), written to OUT, on a
ThreadPoolExecutor of THREADS threads (env, default: the cores). What a Pillow +
multiprocessing.Pool user would write instead of ../shared/bench/peer_pillow.py.

    ../shared/bench/peers.sh /tmp/corpus 3 -- VENV/bin/python benches/python_threads.py /tmp/corpus {OUT}
"""

import os
import sys
from concurrent.futures import ThreadPoolExecutor

import imgpar

SIZE = int(os.environ.get("SIZE", 256))
FMT = os.environ.get("FMT", "png")
SETTINGS = imgpar.Settings(size=(SIZE, SIZE), format="jpeg" if FMT == "jpg" else "png")


def work(job):
    src, dst = job
    try:
        data = imgpar.thumbnail_file(src, settings=SETTINGS)
    except imgpar.ImageError as error:
        print(f"{src}: {error} ({error.kind})", file=sys.stderr)
        return False
    with open(dst, "wb") as out:
        out.write(data)
    return True


if __name__ == "__main__":
    src, dst = sys.argv[1], sys.argv[2]
    os.makedirs(dst, exist_ok=True)
    jobs = [
        (os.path.join(src, f), os.path.join(dst, os.path.splitext(f)[0] + "." + FMT))
        for f in sorted(os.listdir(src))
    ]
    with ThreadPoolExecutor(int(os.environ.get("THREADS", os.cpu_count()))) as pool:
        done = list(pool.map(work, jobs))
    sys.exit(0 if all(done) else 1)
