#!/usr/bin/env python3
"""Peak memory of one picture much larger than its thumbnail: a whole `imgpar` process
against libvips' `vipsthumbnail` and Pillow (draft mode) on the same job (gray, fit
inside 256x256, PNG), for baseline JPEG (quality 90) and non-interlaced PNG pictures of
192 and 400 megapixels.

    python3 benches/big_pictures.py IMGPAR WORKDIR [SIZES]

IMGPAR is the binary to measure (target/release/imgpar); WORKDIR is where the pictures
are generated (several GB; reused when present); SIZES is a comma-separated list of
WIDTHxHEIGHT (default 16000x12000,20000x20000). Pictures are made with libvips
(`gaussnoise` over gradients, so they compress like a detailed scan, not like flat
colour); needs pyvips and Pillow (`pip install pyvips pillow`, with Debian's libvips42
and libvips-tools). Peak memory is GNU time's maximum resident set size of the process.
"""

import os
import subprocess
import sys
import tempfile

import pyvips

PILLOW = """
import sys
from PIL import Image
Image.MAX_IMAGE_PIXELS = None
with Image.open(sys.argv[1]) as im:
    im.draft("L", (256, 256))
    im = im.convert("L")
    im.thumbnail((256, 256), Image.LANCZOS)
    im.save(sys.argv[2])
"""


def make_picture(path, width, height):
    """A detailed RGB picture: three gradients with Gaussian noise on each channel."""
    if os.path.exists(path):
        return
    x = pyvips.Image.xyz(width, height)[0]
    y = pyvips.Image.xyz(width, height)[1]
    bands = []
    for i, base in enumerate([x * (200.0 / width), y * (200.0 / height), (x + y) * (100.0 / width)]):
        noise = pyvips.Image.gaussnoise(width, height, sigma=12.0 + 4 * i, mean=28.0)
        bands.append((base + noise).cast("uchar"))
    picture = bands[0].bandjoin(bands[1:]).copy(interpretation="srgb")
    partial = path + ".part"
    if path.endswith(".jpg"):
        picture.jpegsave(partial, Q=90, optimize_coding=False, interlace=False)
    else:
        picture.pngsave(partial, compression=1, interlace=False)
    os.rename(partial, path)


def peak_mib(command):
    """Runs `command`; returns (peak resident MiB, wall seconds) from GNU time."""
    with tempfile.NamedTemporaryFile("r") as figures:
        subprocess.run(["/usr/bin/time", "-f", "%M %e", "-o", figures.name] + command,
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        kib, wall = figures.read().split()[-2:]
    return int(kib) / 1024, float(wall)


def main():
    imgpar, workdir = sys.argv[1], sys.argv[2]
    sizes = sys.argv[3] if len(sys.argv) > 3 else "16000x12000,20000x20000"
    os.makedirs(workdir, exist_ok=True)
    print(f"{'picture':<32} {'tool':<14} {'peak MiB':>9} {'wall s':>7}")
    for size in sizes.split(","):
        width, height = (int(v) for v in size.split("x"))
        megapixels = width * height // 1_000_000
        for kind, extension in [("baseline JPEG q90", "jpg"), ("PNG", "png")]:
            picture = os.path.join(workdir, f"{size}.{extension}")
            make_picture(picture, width, height)
            label = f"{megapixels} MP {kind} ({os.path.getsize(picture) / 1e6:.0f} MB)"
            with tempfile.TemporaryDirectory() as out:
                tools = {
                    "imgpar": [imgpar, picture, os.path.join(out, "imgpar"), "--format", "png",
                               "--max-pixels", "0", "--mode", "sequential", "-q"],
                    "vipsthumbnail": ["vipsthumbnail", picture, "--size", "256",
                                      "-o", os.path.join(out, "vips.png")],
                    "Pillow draft": [sys.executable, "-c", PILLOW, picture,
                                     os.path.join(out, "pillow.png")],
                }
                for tool, command in tools.items():
                    mib, wall = peak_mib(command)
                    print(f"{label:<32} {tool:<14} {mib:9.0f} {wall:7.2f}", flush=True)


if __name__ == "__main__":
    main()
