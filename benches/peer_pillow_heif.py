# Pillow + pillow-heif (libheif, libde265) with multiprocessing.Pool: what a Python user
# writes for a folder of HEIC photos. Every file of SRC -> gray, fit inside 256x256, PNG.
#   python3 benches/peer_pillow_heif.py SRC DST
import os
import sys
from multiprocessing import Pool

import pillow_heif
from PIL import Image

pillow_heif.register_heif_opener()


def work(job):
    src, dst = job
    with Image.open(src) as im:
        im = im.convert("L")
        im.thumbnail((256, 256), Image.LANCZOS)
        im.save(dst)


if __name__ == "__main__":
    src, dst = sys.argv[1], sys.argv[2]
    os.makedirs(dst, exist_ok=True)
    jobs = [(os.path.join(src, f), os.path.join(dst, os.path.splitext(f)[0] + ".png")) for f in sorted(os.listdir(src))]
    with Pool(os.cpu_count()) as pool:
        pool.map(work, jobs, chunksize=1)
