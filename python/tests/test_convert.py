"""One image at a time: the bytes, the pixels and the errors are the command's."""

import io
import pickle

import numpy
import pytest
from PIL import Image

import imgpar
from conftest import BROKEN, FIXTURES, FORMATS, IMAGES, cli_outputs

FLAGS = {"png": [], "jpeg": ["--quality", "70"], "webp": [], "webp-lossless": [], "avif": []}


@pytest.mark.parametrize("fmt", FORMATS)
def test_bytes_and_files_equal_what_the_command_writes(fmt, out):
    options = {"quality": 70} if fmt == "jpeg" else {}
    written = cli_outputs([IMAGES], out, "--format", fmt, *FLAGS[fmt])
    assert len(written) >= 15, "the fixtures convert"
    for path, written_bytes in written.items():
        expected = imgpar.without_provenance(written_bytes)
        assert expected != written_bytes, "the command's outputs carry their provenance"
        data = path.read_bytes()
        assert imgpar.thumbnail(data, format=fmt, **options) == expected, path.name
        assert imgpar.thumbnail_file(path, format=fmt, **options) == expected, path.name


def test_settings_other_than_the_defaults_mean_what_the_flags_mean(out):
    written = cli_outputs(
        [IMAGES], out, "--format", "png", "--size", "40x30", "--fit", "cover", "--filter", "bilinear", "--color"
    )
    settings = imgpar.Settings(size=(40, 30), fit="cover", filter="bilinear", color=True)
    for path, written_bytes in written.items():
        expected = imgpar.without_provenance(written_bytes)
        assert imgpar.thumbnail(path.read_bytes(), settings=settings) == expected, path.name
        small = Image.open(io.BytesIO(expected))
        assert small.size == (40, 30)
        assert small.mode in (("L",) if path.name.startswith("gray") else ("RGB", "RGBA", "L")), path.name
    assert any(Image.open(io.BytesIO(b)).mode == "RGB" for b in written.values()), "colour kept"


@pytest.mark.parametrize("thumbnails", [True, False])
def test_a_phones_heic_and_a_cameras_raw_give_the_commands_bytes(thumbnails, out):
    flags = [] if thumbnails else ["--no-embedded-thumbnails"]
    written = cli_outputs([FIXTURES / "photos"], out, "--format", "png", *flags)
    assert sorted(path.name for path in written) == ["camera.nef", "phone.heic"]
    for path, written_bytes in written.items():
        expected = imgpar.without_provenance(written_bytes)
        # Bytes carry no name: the RAW is known by its sensor data, the HEIC by its brand.
        made = imgpar.thumbnail(path.read_bytes(), embedded_thumbnails=thumbnails)
        assert made == expected, path.name
        settings = imgpar.Settings(embedded_thumbnails=thumbnails)
        assert imgpar.thumbnail_file(path, settings=settings) == expected, path.name


@pytest.mark.parametrize("color", [False, True])
@pytest.mark.parametrize("name", ["rgb8.png", "alpha.png", "cmyk.jpg", "picture.gif", "gray.jpg"])
def test_the_array_is_the_decoded_png(name, color):
    data = (IMAGES / name).read_bytes()
    array = imgpar.thumbnail_array(data, size=(64, 64), color=color)
    decoded = numpy.asarray(Image.open(io.BytesIO(imgpar.thumbnail(data, size=(64, 64), color=color))))
    assert array.dtype == numpy.uint8
    assert array.shape == decoded.shape
    channels = {
        (False, "alpha.png"): 2,
        (True, "alpha.png"): 4,
        (True, "rgb8.png"): 3,
        (True, "cmyk.jpg"): 3,
        (True, "picture.gif"): 3,
    }.get((color, name), 1)
    assert array.shape[2:] == (() if channels == 1 else (channels,)), array.shape
    assert numpy.array_equal(array, decoded)
    array[0, 0] = 0  # the array is the caller's to change


@pytest.mark.parametrize(
    "name, kind",
    [
        ("truncated.jpg", "corrupt"),
        ("empty.jpg", "read"),
        ("text.jpg", "unsupported"),
        ("huge_header.png", "too_many_pixels"),
    ],
)
def test_a_broken_image_raises_image_error_with_the_reports_kind(name, kind, out):
    path = BROKEN / name
    with pytest.raises(imgpar.ImageError) as raised:
        imgpar.thumbnail_file(path)
    assert raised.value.kind == kind, raised.value
    assert isinstance(raised.value, ValueError)
    report = imgpar.run([path], out)
    assert report.failed == 1 and report.exit_code == 1
    assert report.images[0]["error_kind"] == kind
    if kind != "read":  # bytes have no file to fail to read
        with pytest.raises(imgpar.ImageError) as from_bytes:
            imgpar.thumbnail(path.read_bytes())
        assert from_bytes.value.kind == kind


def test_a_missing_file_is_a_read_error():
    with pytest.raises(imgpar.ImageError) as raised:
        imgpar.thumbnail_file(IMAGES / "no such file.png")
    assert raised.value.kind == "read"
    assert "no such file.png" in str(raised.value) or "No such file" in str(raised.value)


def test_wrong_settings_raise_value_error_with_the_commands_words():
    with pytest.raises(ValueError) as raised:
        imgpar.Settings(fit="stretch")
    assert "stretch" in str(raised.value) and "contain" in str(raised.value)
    with pytest.raises(ValueError):
        imgpar.thumbnail(b"", quality=0)
    with pytest.raises(ValueError) as same:
        imgpar.thumbnail((IMAGES / "rgb8.png").read_bytes(), format="same")
    assert "name the format" in str(same.value)
    with pytest.raises(TypeError):
        imgpar.thumbnail(b"", sizes=(1, 1))


@pytest.mark.parametrize(
    "field, value",
    [("upscale", "no"), ("quality", "85"), ("format", None), ("size", 256), ("max_pixels", 1.5)],
)
def test_settings_of_the_wrong_type_raise_type_error_naming_the_field(field, value):
    with pytest.raises(TypeError) as raised:
        imgpar.Settings(**{field: value})
    assert f"Settings.{field}" in str(raised.value)
    assert "unexpected argument" not in str(raised.value)


def test_format_names_pillow_users_write_are_taken():
    data = (IMAGES / "rgb8.png").read_bytes()
    jpeg = imgpar.thumbnail(data, format="jpeg")
    for name in ("JPEG", "jpg", "JPG", "Jpeg"):
        assert imgpar.Settings(format=name).format == "jpeg"
        assert imgpar.thumbnail(data, format=name) == jpeg
    assert imgpar.Settings(format="PNG").format == "png"


def test_any_buffer_is_taken_and_thumbnail_array_refuses_a_format():
    data = (IMAGES / "rgb8.png").read_bytes()
    expected = imgpar.thumbnail(data)
    assert imgpar.thumbnail(bytearray(data)) == expected
    assert imgpar.thumbnail(memoryview(data)) == expected
    assert imgpar.thumbnail_array(memoryview(data)).shape == imgpar.thumbnail_array(data).shape
    with pytest.raises(TypeError) as raised:
        imgpar.thumbnail_array(data, format="jpeg")
    assert "format" in str(raised.value)


def test_numpy_arrays_and_arrow_values_convert_and_read_only_ones_are_not_copied():
    import numpy
    import pyarrow
    import tracemalloc

    # A JPEG with 32 MB after its end (ignored by the decoder): a copy would show.
    data = (IMAGES / "baseline_420.jpg").read_bytes() + bytes(32 << 20)
    expected = imgpar.thumbnail(data)
    read_only = numpy.frombuffer(data, dtype=numpy.uint8)
    assert not read_only.flags.writeable
    column = pyarrow.array([data], type=pyarrow.binary())
    given = {
        "a read-only NumPy array": read_only,
        "a memoryview of bytes": memoryview(data),
        "a memoryview cast to signed bytes": memoryview(data).cast("b"),
        "an Arrow binary scalar": column[0],
        "an Arrow buffer that says it is immutable": pyarrow.py_buffer(data),
    }
    for what, value in given.items():
        tracemalloc.start()
        made = imgpar.thumbnail(value)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert made == expected, what
        assert peak < 4 << 20, f"{what}: {peak} bytes allocated (copied?)"
    # A writable buffer could change while the image converts: it is copied, once.
    writable = numpy.frombuffer(bytearray(data), dtype=numpy.uint8)
    tracemalloc.start()
    assert imgpar.thumbnail(writable) == expected
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert (32 << 20) < peak < (40 << 20)
    with pytest.raises(TypeError, match="null"):
        imgpar.thumbnail(pyarrow.array([None], type=pyarrow.binary())[0])


def test_settings_and_errors_pickle():
    settings = imgpar.Settings(size=(100, None), format="webp", quality=60)
    assert pickle.loads(pickle.dumps(settings)) == settings
    error = imgpar.ImageError("damaged", "corrupt")
    copy = pickle.loads(pickle.dumps(error))
    assert (type(copy), copy.kind, str(copy)) == (imgpar.ImageError, "corrupt", "damaged")
    failed = pickle.loads(pickle.dumps(imgpar.RunError("no output", 3)))
    assert (failed.code, str(failed)) == (3, "no output")
