"""The GIL is released while an image is converted: other Python threads run, and two
threads on two cores convert faster than one."""

import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor

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


def test_two_threads_convert_at_least_1_6_times_faster_than_one():
    assert (os.cpu_count() or 1) >= 2, "needs two cores"
    images = [DATA] * 8

    def seconds(threads):
        with ThreadPoolExecutor(threads) as pool:
            started = time.perf_counter()
            list(pool.map(lambda d: imgpar.thumbnail(d, **SLOW), images))
            return time.perf_counter() - started

    # The machine is shared: another program can take a core for a while. One thread
    # and two are timed side by side, up to five times; holding the GIL could not
    # reach 1.6x in any of them (at most ~1.1x), so the best of them is the measure.
    ratios = []
    for _ in range(5):
        ratios.append(seconds(1) / seconds(2))
        if ratios[-1] >= 1.6:
            break
    print("two threads against one: " + ", ".join(f"{r:.2f}x" for r in ratios))
    assert max(ratios) >= 1.6, ratios
