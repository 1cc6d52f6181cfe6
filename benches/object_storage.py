#!/usr/bin/env python3
"""What object storage costs: N images converted in async mode from an S3 server on
loopback (moto) to the same server, against the same images from disk to disk.

    target/tmp/moto-venv/bin/python benches/object_storage.py IMGPAR SRC_DIR [N] [REPEAT]

IMGPAR is the binary to time (target/release/imgpar); SRC_DIR a folder of images, taken
in turn until there are N (default 500) under distinct names. The Python must have moto
and boto3 (the venv tests/it/sources_and_outputs/objects.rs installs). Each run writes to a fresh folder or
prefix; the table gives the median wall time of REPEAT (default 3) runs of each.
"""

import concurrent.futures
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

import boto3

ENV = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench-secret",
    "AWS_REGION": "us-east-1",
    "AWS_ALLOW_HTTP": "true",
}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_moto():
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(600):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            return server, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.1)
    raise SystemExit("moto did not start")


def cpu_seconds(pid):
    """User plus system CPU seconds of a process so far (Linux /proc)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def timed(cmd, env):
    clock = time.monotonic()
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.monotonic() - clock


def main():
    imgpar, src = sys.argv[1], sys.argv[2]
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 500
    repeat = int(sys.argv[4]) if len(sys.argv) > 4 else 3
    sources = sorted(
        os.path.join(src, name)
        for name in os.listdir(src)
        if os.path.isfile(os.path.join(src, name))
    )
    work = tempfile.mkdtemp(prefix="imgpar-objects-")
    images = os.path.join(work, "in")
    os.makedirs(images)
    for i in range(count):
        source = sources[i % len(sources)]
        shutil.copy(source, os.path.join(images, f"img{i:04d}{os.path.splitext(source)[1]}"))
    size = sum(os.path.getsize(os.path.join(images, n)) for n in os.listdir(images))

    server, endpoint = start_moto()
    env = dict(os.environ, AWS_ENDPOINT_URL=endpoint, **ENV)
    try:
        s3 = boto3.client(
            "s3",
            endpoint_url=endpoint,
            aws_access_key_id=ENV["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=ENV["AWS_SECRET_ACCESS_KEY"],
            region_name="us-east-1",
        )
        s3.create_bucket(Bucket="bench")
        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            list(
                pool.map(
                    lambda n: s3.upload_file(os.path.join(images, n), "bench", f"in/{n}"),
                    os.listdir(images),
                )
            )
        common = ["--mode", "async", "-q", "--no-shard"]
        disk, bucket, server_cpu = [], [], []
        for run in range(repeat):
            out = os.path.join(work, f"out{run}")
            disk.append(timed([imgpar, images, out, *common], env))
            before = cpu_seconds(server.pid)
            bucket.append(timed([imgpar, "s3://bench/in", f"s3://bench/out{run}", *common], env))
            server_cpu.append(cpu_seconds(server.pid) - before)
        d, b = statistics.median(disk), statistics.median(bucket)
        print(f"{count} images, {size / 1e6:.0f} MB, async mode, median of {repeat} runs")
        print(f"  disk -> disk     {d:6.2f} s   ({', '.join(f'{t:.2f}' for t in disk)})")
        print(f"  moto -> moto     {b:6.2f} s   ({', '.join(f'{t:.2f}' for t in bucket)})")
        print(f"  object storage overhead: {b / d:.2f}x the wall time ({b - d:+.2f} s)")
        print(
            f"  the S3 server (moto, Python) used {statistics.median(server_cpu):.2f} CPU s "
            f"per run, on the same {os.cpu_count()} cores"
        )
    finally:
        server.kill()
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
