"""Colour references made by Pillow (LittleCMS for ICC profiles, through ImageCms),
independent of imgpar's decoders and of its colour management (moxcms).

    python colour_reference.py make DIR P3.icc ADOBE.icc CMYK.icc
        writes the colour variants of one picture into DIR: untagged and tagged (Display P3,
        Adobe RGB) JPEG, PNG, WebP and TIFF; CMYK JPEG with and without a profile; RGBA,
        palette and gray PNG; palette TIFF and GIF; RGBA WebP; BMP, TGA; AVIF and HEIC
        (P3-tagged too)
    python colour_reference.py decode IN OUT
        decodes each file of IN with Pillow into OUT/<stem>.png, in its own mode
    python colour_reference.py lab-tiff FILE
        writes a CIE L*a*b* TIFF of the picture
    python colour_reference.py compare IN OUT [--gray]
        prints a JSON object: for each file of IN whose output OUT/<stem>.png exists, the
        PSNR (dB) of that output against Pillow's sRGB rendering of the file (the embedded
        profile applied with ImageCms, relative colorimetric as libvips does; CMYK without
        one by Pillow's own rule), resized to
        the output's size with Lanczos (alpha premultiplied), its size and mode, and the
        PSNR of an unmanaged rendering (the profile ignored); with --gray, against the
        BT.601 luma of those renderings
"""
import io
import json
import math
import os
import sys

import numpy as np
import pillow_heif
from PIL import Image, ImageCms, ImageDraw

pillow_heif.register_heif_opener()

SRGB = ImageCms.createProfile("sRGB")


def scene(width, height):
    """Saturated gradients (where gamuts differ), a bright block in the top-left corner
    (orientation shows), and a green disc."""
    red = Image.linear_gradient("L").rotate(90).resize((width, height))
    green = Image.linear_gradient("L").resize((width, height))
    blue = Image.linear_gradient("L").rotate(45).resize((width, height))
    picture = Image.merge("RGB", (red, green, blue))
    draw = ImageDraw.Draw(picture)
    draw.rectangle([0, 0, width // 5, height // 5], fill=(250, 240, 20))
    draw.ellipse([width * 0.45, height * 0.4, width * 0.75, height * 0.7], fill=(30, 200, 60))
    return picture


def make(folder, p3, adobe, cmyk):
    os.makedirs(folder, exist_ok=True)
    icc = {name: open(path, "rb").read() for name, path in [("p3", p3), ("adobe", adobe), ("cmyk", cmyk)]}
    photo = scene(1200, 800)
    photo.save(f"{folder}/srgb.jpg", quality=95)
    photo.save(f"{folder}/p3.jpg", quality=95, icc_profile=icc["p3"])
    photo.save(f"{folder}/adobe.jpg", quality=95, icc_profile=icc["adobe"])
    photo.save(f"{folder}/p3_png.png", icc_profile=icc["p3"])
    photo.save(f"{folder}/p3_webp.webp", quality=95, icc_profile=icc["p3"])
    photo.save(f"{folder}/adobe_tiff.tif", icc_profile=icc["adobe"])
    photo.save(f"{folder}/plain_webp.webp", quality=95)
    photo.save(f"{folder}/plain_bmp.bmp")
    photo.save(f"{folder}/plain_tga.tga")
    photo.save(f"{folder}/plain_avif.avif", quality=95)
    photo.save(f"{folder}/p3_avif.avif", quality=95, icc_profile=icc["p3"])
    photo.save(f"{folder}/p3_heic.heic", quality=95, icc_profile=icc["p3"])
    photo.quantize(64).save(f"{folder}/palette.png")
    photo.quantize(64).save(f"{folder}/palette_gif.gif")
    photo.quantize(64).save(f"{folder}/palette_tiff.tif")
    photo.convert("L").save(f"{folder}/gray.png")
    with_alpha = photo.convert("RGBA")
    with_alpha.putalpha(Image.linear_gradient("L").resize(photo.size))
    with_alpha.save(f"{folder}/alpha.png")
    with_alpha.save(f"{folder}/alpha_webp.webp", lossless=True)
    photo.convert("CMYK").save(f"{folder}/cmyk_plain.jpg", quality=95)
    printed = ImageCms.profileToProfile(photo, SRGB, ImageCms.ImageCmsProfile(io.BytesIO(icc["cmyk"])), outputMode="CMYK")
    printed.save(f"{folder}/cmyk_profile.jpg", quality=95, icc_profile=icc["cmyk"])


def psnr(a, b):
    error = np.mean((np.asarray(a, dtype=float) - np.asarray(b, dtype=float)) ** 2)
    return 99.0 if error == 0 else 10 * math.log10(255**2 / error)


def rendering(path, managed):
    picture = Image.open(path)
    picture.load()
    icc = picture.info.get("icc_profile")
    if managed and icc:
        mode = "RGBA" if picture.mode in ("RGBA", "LA", "PA") else "RGB"
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        if picture.mode not in ("RGB", "RGBA", "CMYK", "L"):
            picture = picture.convert(mode)
        picture = ImageCms.profileToProfile(
            picture, source, SRGB, outputMode=mode, renderingIntent=ImageCms.Intent.RELATIVE_COLORIMETRIC
        )
    if picture.mode.startswith("I"):
        # 16-bit gray: Pillow's own convert("L") clips; scaled to 8 bits as imgpar rounds.
        values = (np.asarray(picture).astype(np.uint32) + 128) // 257
        return Image.fromarray(values.astype(np.uint8), "L")
    if picture.mode == "L":
        return picture
    if picture.mode in ("LA",):
        return picture.convert("LA")
    has_alpha = picture.mode in ("RGBA", "PA") or "transparency" in picture.info
    return picture.convert("RGBA" if has_alpha else "RGB")


def premultiplied(picture):
    values = np.asarray(picture, dtype=float)
    if picture.mode in ("RGBA", "LA"):
        alpha = values[..., -1:] / 255.0
        values = np.concatenate([values[..., :-1] * alpha, values[..., -1:]], axis=-1)
    return values


def resized(picture, size):
    """Lanczos on premultiplied alpha, as imgpar resizes."""
    if picture.mode == "RGBA":
        return picture.convert("RGBa").resize(size, Image.LANCZOS).convert("RGBA")
    if picture.mode == "LA":
        return picture.convert("La").resize(size, Image.LANCZOS).convert("LA")
    return picture.resize(size, Image.LANCZOS)


def gray(picture):
    return picture.convert("LA" if picture.mode in ("RGBA", "LA") else "L")


def compare(source, output, as_gray=False):
    scores = {}
    for name in sorted(os.listdir(source)):
        made = os.path.join(output, os.path.splitext(name)[0] + ".png")
        if not os.path.exists(made):
            continue
        try:
            Image.open(os.path.join(source, name)).verify()
        except Exception:
            continue  # not a picture Pillow reads (a licence beside PngSuite.png)
        mine = Image.open(made)
        mine.load()
        score = {"size": list(mine.size), "mode": mine.mode}
        for key, managed in [("psnr", True), ("unmanaged", False)]:
            reference = rendering(os.path.join(source, name), managed)
            if as_gray:
                reference = gray(reference)
            reference = resized(reference, mine.size)
            score[key] = psnr(premultiplied(mine.convert(reference.mode)), premultiplied(reference))
        scores[name] = score
    print(json.dumps(scores))


if __name__ == "__main__":
    command, args = sys.argv[1], sys.argv[2:]
    if command == "make":
        make(*args)
    elif command == "compare":
        compare(args[0], args[1], "--gray" in args)
    elif command == "decode":
        os.makedirs(args[1], exist_ok=True)
        for name in os.listdir(args[0]):
            Image.open(os.path.join(args[0], name)).save(os.path.join(args[1], os.path.splitext(name)[0] + ".png"))
    elif command == "lab-tiff":
        to_lab = ImageCms.buildTransform(SRGB, ImageCms.createProfile("LAB"), "RGB", "LAB")
        ImageCms.applyTransform(scene(120, 80), to_lab).save(args[0])
    else:
        sys.exit(f"unknown command {command}")
