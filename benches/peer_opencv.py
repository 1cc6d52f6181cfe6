# OpenCV with reduced decoding, the way a user who knows it writes the job: every image of
# SRC read straight to gray (with --color: in colour, cv2.IMREAD_REDUCED_COLOR_*; OpenCV
# applies no ICC profile) at 1/2, 1/4 or 1/8 scale when the thumbnail allows
# (cv2.IMREAD_REDUCED_GRAYSCALE_*: libjpeg's DCT scaling for JPEG, a plain decimation for
# the rest), then fit inside SIZE x SIZE with INTER_AREA and written as PNG, on a
# multiprocessing.Pool of all cores. SIZE from the environment (default 256).
#   python3 benches/peer_opencv.py SRC DST [--color]
import os
import sys
from multiprocessing import Pool

import cv2
from PIL import Image

SIZE = int(os.environ.get("SIZE", 256))
GRAY = {1: cv2.IMREAD_GRAYSCALE, 2: cv2.IMREAD_REDUCED_GRAYSCALE_2, 4: cv2.IMREAD_REDUCED_GRAYSCALE_4, 8: cv2.IMREAD_REDUCED_GRAYSCALE_8}
COLOUR = {1: cv2.IMREAD_COLOR, 2: cv2.IMREAD_REDUCED_COLOR_2, 4: cv2.IMREAD_REDUCED_COLOR_4, 8: cv2.IMREAD_REDUCED_COLOR_8}


def work(job):
    src, dst, reduced = job
    # The size first (OpenCV has no header read; Pillow's open reads only the header), so
    # the reduction keeps at least twice the output on the longer side.
    with Image.open(src) as header:
        width, height = header.size
    factor = 1
    while factor < 8 and max(width, height) / (factor * 2) >= 2 * SIZE:
        factor *= 2
    image = cv2.imread(src, reduced[factor])
    scale = SIZE / max(image.shape[:2])
    if scale < 1:
        size = (max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale)))
        image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    cv2.imwrite(dst, image)


if __name__ == "__main__":
    src, dst = sys.argv[1], sys.argv[2]
    os.makedirs(dst, exist_ok=True)
    reduced = COLOUR if "--color" in sys.argv else GRAY
    jobs = [(os.path.join(src, f), os.path.join(dst, os.path.splitext(f)[0] + ".png"), reduced) for f in sorted(os.listdir(src))]
    with Pool(os.cpu_count()) as pool:
        pool.map(work, jobs, chunksize=1)
