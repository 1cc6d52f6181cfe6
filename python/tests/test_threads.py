"""The GIL is released while an image is converted: other Python threads run, and threads
converting at once each get what they would get alone."""

import threading
from concurrent.futures import ThreadPoolExecutor
import time

import imgpar
from conftest import IMAGES

# A picture that takes a while: the largest fixture, made larger by upscaling.
DATA = (IMAGES / "baseline_444.jpg").read_bytes()
SLOW = dict(size=(1500, 1500), upscale=True, format="png")


def test_other_python_threads_run_while_an_image_converts():
    # Another thread notes the longest it went without running Python code while the
    # conversion was under way: with the GIL held for the call, that is the whole call.
    longest = 0.0
    measuring = threading.Event()
    stop = threading.Event()

    def watch():
        nonlocal longest
        last = time.perf_counter()
        while not stop.is_set():
            now = time.perf_counter()
            if measuring.is_set():
                longest = max(longest, now - last)
            last = now

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        time.sleep(0.05)
        measuring.set()
        started = time.perf_counter()
        imgpar.thumbnail(DATA, **SLOW)
        took = time.perf_counter() - started
        measuring.clear()
    finally:
        stop.set()
        watcher.join()
    assert took > 0.1, "the conversion is long enough to see"
    assert longest < took / 2, f"the other thread stood still {longest:.3f} s of {took:.3f} s"


def test_threads_converting_at_once_get_the_bytes_of_one_at_a_time():
    # Many conversions in flight at once, each with its own settings, give exactly the
    # bytes each gives alone: nothing is shared between calls. (How much faster two
    # threads are than one is measured with benches/python_threads.py, THREADS=1 against
    # THREADS=2, not asserted here.)
    calls = [
        dict(size=(side, side), format=fmt)
        for side in (16, 48, 96, 200)
        for fmt in ("png", "jpeg", "webp")
    ] * 3
    alone = [imgpar.thumbnail(DATA, **call) for call in calls]
    with ThreadPoolExecutor(4) as pool:
        together = list(pool.map(lambda call: imgpar.thumbnail(DATA, **call), calls))
    assert together == alone
