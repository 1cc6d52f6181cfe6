# Colour thumbnails the way a user of each tool writes the job: every image of SRC fit
# inside SIZE x SIZE in colour (sRGB), written as PNG, on a multiprocessing.Pool of all
# cores. SIZE from the environment (default 256).
#   python3 benches/peer_colour.py TOOL SRC DST
# TOOL:
#   pillow-draft  Pillow, libjpeg decoding reduced (draft), the embedded ICC profile applied
#                 with ImageCms, then Lanczos;
#   pyvips        libvips thumbnail (shrink-on-load; an embedded profile brought to sRGB).
# (OpenCV's reduced colour decoding: benches/peer_opencv.py --color.)
import io
import os
import sys
from multiprocessing import Pool

SIZE = int(os.environ.get("SIZE", 256))


def pillow_draft(src, dst):
    from PIL import Image, ImageCms

    with Image.open(src) as im:
        im.draft("RGB", (SIZE, SIZE))
        icc = im.info.get("icc_profile")
        if icc:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            im = ImageCms.profileToProfile(im, source, ImageCms.createProfile("sRGB"), outputMode="RGB")
        im = im.convert("RGB")
        im.thumbnail((SIZE, SIZE), Image.LANCZOS)
        im.save(dst)


def pyvips(src, dst):
    import pyvips

    pyvips.Image.thumbnail(src, SIZE, height=SIZE).write_to_file(dst)


TOOLS = {"pillow-draft": pillow_draft, "pyvips": pyvips}


def work(job):
    tool, src, dst = job
    TOOLS[tool](src, dst)


if __name__ == "__main__":
    tool, src, dst = sys.argv[1], sys.argv[2], sys.argv[3]
    os.makedirs(dst, exist_ok=True)
    jobs = [(tool, os.path.join(src, f), os.path.join(dst, os.path.splitext(f)[0] + ".png")) for f in sorted(os.listdir(src))]
    with Pool(os.cpu_count()) as pool:
        pool.map(work, jobs, chunksize=1)
