"""References for the photo formats, made by tools independent of imgpar's decoders:
libheif (through pillow-heif, which also encodes HEIC with x265) for HEIC, ExifTool and
Pillow for camera RAW previews.

    python photo_reference.py heic-make DIR
        writes the HEIC variants into DIR
    python photo_reference.py heic-compare IN OUT [--thumbnail]
        prints a JSON object: for each file of IN whose output OUT/<stem>.png exists, the
        PSNR (dB) and size of that output against libheif's picture in gray (BT.601,
        10/12-bit rounded to 8), resized to the output's size with Lanczos; with
        --thumbnail, against libheif's decode of the file's thumbnail
    python photo_reference.py raw-preview FILE.jpg [ORIENTATION]
        writes a 1600x1067 photo-like JPEG (with an EXIF Orientation of its own if given)
    python photo_reference.py flatten-compare PICTURE OUTPUT COLOR
        prints the PSNR (dB) of OUTPUT (a gray JPEG) against PICTURE (an image with alpha)
        laid on COLOR (#rrggbb) by Pillow, in gray, resized to the output's size
    python photo_reference.py raw-compare EXIFTOOL IN OUT
        the same JSON, against the largest JPEG ExifTool extracts from each file
        (PreviewImage or JpgFromRaw; the file itself when it is a JPEG), turned by the
        RAW's IFD0 Orientation as ExifTool reads it
"""
import io
import json
import math
import os
import subprocess
import sys

import numpy as np
import pillow_heif
from PIL import Image, ImageDraw

pillow_heif.register_heif_opener()


def scene(width, height, spacing=37):
    """Gradients, a bright block in the top-left corner (orientation shows), a disc and
    fine diagonal lines (detail a wrong decoder or resize loses)."""
    red = Image.linear_gradient("L").rotate(90).resize((width, height))
    green = Image.linear_gradient("L").resize((width, height))
    blue = Image.linear_gradient("L").rotate(45).resize((width, height))
    picture = Image.merge("RGB", (red, green, blue))
    draw = ImageDraw.Draw(picture)
    draw.rectangle([0, 0, width // 5, height // 5], fill=(250, 250, 240))
    draw.ellipse([width * 0.45, height * 0.4, width * 0.75, height * 0.7], fill=(30, 160, 60))
    for x in range(0, width, spacing):
        draw.line([(x, height // 2), (x + 20, height)], fill=(20, 20, 90), width=3)
    return picture


def exif(orientation):
    tags = Image.Exif()
    tags[0x0112] = orientation
    return tags.tobytes()


def psnr(a, b):
    error = np.mean((np.asarray(a, dtype=float) - np.asarray(b, dtype=float)) ** 2)
    return 99.0 if error == 0 else 10 * math.log10(255**2 / error)


def score_outputs(source, output, reference_of):
    """{name: {psnr, size}} for each file of `source` with an output and a reference."""
    scores = {}
    for name in sorted(os.listdir(source)):
        made = os.path.join(output, os.path.splitext(name)[0] + ".png")
        if not os.path.exists(made):
            continue
        reference = reference_of(os.path.join(source, name))
        if reference is None:
            continue
        mine = Image.open(made)
        reference = reference.resize(mine.size, Image.LANCZOS)
        scores[name] = {"psnr": psnr(mine.convert(reference.mode), reference), "size": list(mine.size)}
    print(json.dumps(scores))


# HEIC


def heic_make(folder):
    os.makedirs(folder, exist_ok=True)
    photo = scene(1200, 900)
    # As a phone writes it: 512x512 tiles, a 320 px thumbnail, turned by irot.
    photo.save(f"{folder}/phone_grid.heic", quality=90, tile_size=512, thumbnails=[320], exif=exif(6))
    photo.save(f"{folder}/mirrored.heic", quality=90, exif=exif(2))
    photo.save(f"{folder}/turned_180.heif", quality=90, exif=exif(3))
    photo.save(f"{folder}/transposed_tiles.hif", quality=90, tile_size=256, exif=exif(5))
    photo.convert("L").save(f"{folder}/gray.heic", quality=90)
    with_alpha = photo.convert("RGBA")
    with_alpha.putalpha(Image.linear_gradient("L").resize(photo.size))
    with_alpha.save(f"{folder}/alpha.heic", quality=90)
    photo.save(f"{folder}/chroma444.heic", quality=90, chroma=444)
    wide = (np.asarray(photo).astype(np.uint16) * 257).astype("<u2").tobytes()
    deep = pillow_heif.from_bytes(mode="RGB;16", size=photo.size, data=wide)
    deep.save(f"{folder}/ten_bit.heic", quality=90)
    pillow_heif.options.SAVE_HDR_TO_12_BIT = True
    deep.save(f"{folder}/twelve_bit.heic", quality=90)


def gray(picture):
    """libheif's picture as 8-bit gray (with alpha when it has one)."""
    if picture.mode.startswith("I;16"):
        values = (np.asarray(picture).astype(np.uint32) + 128) // 257
        return Image.fromarray(values.astype(np.uint8), "L")
    if picture.mode in ("RGBA", "LA"):
        return picture.convert("LA")
    return picture.convert("L")


def heic_reference(thumbnail):
    def reference_of(path):
        heif = pillow_heif.open_heif(path)
        if not thumbnail:
            return gray(heif.to_pillow())
        primary = heif[heif.primary_index]
        if not primary.info.get("thumbnails"):
            return None
        small = primary.get_thumbnail(0)
        return gray(Image.frombytes(small.mode, small.size, bytes(small.data), "raw", small.mode, small.stride))

    return reference_of


# Camera RAW


def raw_preview(path, own_orientation=None):
    picture = scene(1600, 1067, spacing=41)
    if own_orientation:
        picture.save(path, quality=92, exif=exif(own_orientation))
    else:
        picture.save(path, quality=92)


# EXIF orientation -> the transposes that show the picture upright.
TURNS = {
    2: [Image.Transpose.FLIP_LEFT_RIGHT],
    3: [Image.Transpose.ROTATE_180],
    4: [Image.Transpose.FLIP_TOP_BOTTOM],
    5: [Image.Transpose.TRANSPOSE],
    6: [Image.Transpose.ROTATE_270],
    7: [Image.Transpose.TRANSVERSE],
    8: [Image.Transpose.ROTATE_90],
}


def raw_reference(exiftool):
    def largest_jpeg(path):
        found = None
        for tag in ("-PreviewImage", "-JpgFromRaw"):
            data = subprocess.run([exiftool, "-b", tag, path], capture_output=True).stdout
            if not data:
                continue
            picture = Image.open(io.BytesIO(data))
            picture.load()
            if found is None or picture.width * picture.height > found.width * found.height:
                found = picture
        if found is None and open(path, "rb").read(2) == b"\xff\xd8":
            # Not a RAW at all: a JPEG, whatever its name.
            found = Image.open(path)
            found.load()
        return found

    def reference_of(path):
        picture = largest_jpeg(path)
        if picture is None:
            return None
        text = subprocess.run(
            [exiftool, "-n", "-s3", "-IFD0:Orientation", path], capture_output=True, text=True
        ).stdout
        for turn in TURNS.get(int(text.strip() or 1), []):
            picture = picture.transpose(turn)
        return picture.convert("L")

    return reference_of


def flatten_compare(picture, output, colour):
    rgba = Image.open(picture).convert("RGBA")
    laid = Image.new("RGBA", rgba.size, colour)
    laid.alpha_composite(rgba)
    mine = Image.open(output).convert("L")
    reference = laid.convert("L").resize(mine.size, Image.LANCZOS)
    print(json.dumps(psnr(mine, reference)))


if __name__ == "__main__":
    command, args = sys.argv[1], sys.argv[2:]
    if command == "heic-make":
        heic_make(args[0])
    elif command == "heic-compare":
        score_outputs(args[0], args[1], heic_reference("--thumbnail" in args))
    elif command == "raw-preview":
        raw_preview(args[0], int(args[1]) if len(args) > 1 else None)
    elif command == "flatten-compare":
        flatten_compare(*args)
    elif command == "raw-compare":
        score_outputs(args[1], args[2], raw_reference(args[0]))
    else:
        sys.exit(f"unknown command {command}")
