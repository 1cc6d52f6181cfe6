#!/usr/bin/env python3
"""How far imgpar's thumbnails are from the exact ones: each output in OUT against the
same image decoded whole by Pillow, converted to gray (BT.601, as imgpar) and resized to
the output's size with Lanczos from the full picture (no draft, no reducing gap).

    python3 benches/thumbnail_quality.py IN OUT [OTHER_OUT]

IN holds the originals, OUT imgpar's PNG outputs of `imgpar IN OUT --format png`. Prints
the mean absolute difference in gray levels per image and over all; with OTHER_OUT (the
same job by another build), also the mean difference between the two builds' outputs.
"""

import os
import sys

from PIL import Image, ImageChops, ImageOps, ImageStat

Image.MAX_IMAGE_PIXELS = None


def mean_difference(a, b):
    return ImageStat.Stat(ImageChops.difference(a, b)).mean[0]


def gray(path):
    with Image.open(path) as im:
        im = ImageOps.exif_transpose(im)
        if im.mode in ("RGBA", "LA", "PA") or "transparency" in im.info:
            return None  # alpha: imgpar keeps it, the comparison would mix it in
        return im.convert("L")


def main():
    source, out = sys.argv[1], sys.argv[2]
    other = sys.argv[3] if len(sys.argv) > 3 else None
    exact_total, other_total, count = 0.0, 0.0, 0
    for name in sorted(os.listdir(source)):
        stem = os.path.splitext(name)[0]
        candidates = [os.path.join(out, stem + ".png"), os.path.join(out, name + ".png")]
        output = next((c for c in candidates if os.path.exists(c)), None)
        if output is None:
            continue
        full = gray(os.path.join(source, name))
        if full is None:
            continue
        thumbnail = Image.open(output).convert("L")
        exact = full.resize(thumbnail.size, Image.LANCZOS)
        difference = mean_difference(thumbnail, exact)
        line = f"{name:<60} {difference:6.2f}"
        if other:
            then = Image.open(os.path.join(other, os.path.relpath(output, out))).convert("L")
            between = mean_difference(thumbnail, then)
            other_total += between
            line += f" {between:6.2f}"
        print(line)
        exact_total += difference
        count += 1
    summary = f"{count} images: mean difference from the exact thumbnail {exact_total / count:.3f}"
    if other:
        summary += f", from the other build's {other_total / count:.3f}"
    print(summary)


if __name__ == "__main__":
    main()
