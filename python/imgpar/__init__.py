"""imgpar: batch grayscale thumbnails, in-process.

``thumbnail``, ``thumbnail_file`` and ``thumbnail_array`` convert one image; ``run``
converts a batch (folders, files, URL lists, buckets) in one of imgpar's modes and
returns its ``Report``. Keyword arguments are the ``imgpar`` command's flags with
underscores (``max_pixels=`` is ``--max-pixels``) and mean exactly what the flags mean:
``thumbnail(data, format="jpeg")`` returns the bytes ``imgpar --format jpeg`` writes for
the same file. The GIL is released for all image work, so threads run in parallel.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from typing import (
    TYPE_CHECKING,
    Any,
    Callable,
    Dict,
    Iterable,
    List,
    Mapping,
    Literal,
    Optional,
    Tuple,
    TypedDict,
    Union,
)

from . import _imgpar

if TYPE_CHECKING:
    import numpy
    import numpy.typing
    from typing_extensions import Unpack

# The package's types are written here once (``py.typed``): type checkers read this file;
# the native module's are in ``_imgpar.pyi``.
_Path = Union[str, "os.PathLike[str]"]
_Data = Union[bytes, bytearray, memoryview]
Size = Tuple[Optional[int], Optional[int]]
Mode = Literal["sequential", "threaded", "async", "process"]
Fit = Literal["contain", "cover", "fill"]
Format = Literal["png", "jpeg", "jpg", "JPEG", "PNG", "webp", "webp-lossless", "avif", "same"]
Filter = Literal["lanczos3", "catmull-rom", "bilinear", "box", "nearest"]

__version__ = _imgpar.__version__

#: The names ``run(mode=...)`` takes, as the command's ``--mode``.
MODES = tuple(_imgpar.MODES)

__all__ = [
    "MODES",
    "ImageError",
    "Report",
    "RunError",
    "Settings",
    "run",
    "thumbnail",
    "thumbnail_array",
    "thumbnail_file",
    "without_provenance",
]

# Process mode starts its workers as `python -m imgpar worker`: a fresh interpreter that
# imports this package and serves, never the calling program's own `__main__`.
if sys.executable:
    _imgpar.start_again_as(sys.executable, ["-m", "imgpar"])


class ImageError(ValueError):
    """One image could not be converted. ``kind`` is the report's ``error_kind``
    (``corrupt``, ``unsupported``, ``too_many_pixels``, ``read``, ...)."""

    def __init__(self, message: str, kind: str) -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind

    def __reduce__(self):
        return (type(self), (self.message, self.kind))


class RunError(Exception):
    """A run, or a conversion's settings, could not start or finish. ``code`` is the exit
    code the ``imgpar`` command gives for the same run (2: settings, inputs, an output
    folder that cannot be made). An interrupted run raises ``KeyboardInterrupt``."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.message = message
        self.code = code

    def __reduce__(self):
        return (type(self), (self.message, self.code))


class Conversion(TypedDict, total=False):
    """The keyword arguments of one conversion (those of ``Settings``)."""

    size: Size
    fit: Fit
    format: Format
    quality: int
    filter: Filter
    upscale: bool
    max_pixels: int
    speed: int
    embedded_thumbnails: bool
    background: str
    color: bool
    keep_metadata: bool


@dataclasses.dataclass(frozen=True)
class Settings:
    """How one image is converted; checked when made (``RunError`` if a value is wrong).
    A plain dataclass: it pickles, so it crosses ``multiprocessing``, Ray and Dask."""

    size: Size = (256, 256)
    fit: Fit = "contain"
    format: Format = "png"
    quality: int = 85
    filter: Filter = "lanczos3"
    upscale: bool = False
    max_pixels: int = 100_000_000
    speed: int = 8
    # A HEIC's stored thumbnail stands for its picture when it is as large as the output.
    embedded_thumbnails: bool = True
    # What transparent pixels are laid on in a JPEG: white, black, gray, #rgb or #rrggbb.
    background: str = "white"
    # Colour thumbnails in sRGB (an embedded ICC profile applied); gray when False.
    color: bool = False
    # The picture's EXIF, XMP and IPTC written into the thumbnail (orientation reset,
    # embedded thumbnail and GPS position left out).
    keep_metadata: bool = False

    def __post_init__(self) -> None:
        _check_types(self)
        # The names Pillow users write: "JPEG", "jpg", "PNG".
        fmt = self.format.lower()
        object.__setattr__(self, "format", _FORMAT_NAMES.get(fmt, fmt))
        object.__setattr__(self, "fit", self.fit.lower())
        object.__setattr__(self, "filter", self.filter.lower())
        try:
            _imgpar.check_conversion(self.flags())
        except RunError as error:
            raise ValueError(error.message) from None

    def flags(self) -> List[str]:
        """These settings as the ``imgpar`` command's flags."""
        options = dataclasses.asdict(self)
        options["no_embedded_thumbnails"] = not options.pop("embedded_thumbnails")
        return _flags(options)


_FORMAT_NAMES = {"jpg": "jpeg", "jpe": "jpeg", "jfif": "jpeg"}


def _check_types(settings: "Settings") -> None:
    """Raises ``TypeError`` naming the field whose value is not of its type."""

    def wrong(name: str, what: str) -> None:
        value = getattr(settings, name)
        raise TypeError(f"Settings.{name} must be {what}, not {type(value).__name__} {value!r}")

    for name in ("quality", "max_pixels", "speed"):
        value = getattr(settings, name)
        if isinstance(value, bool) or not isinstance(value, int):
            wrong(name, "an int")
    for name in ("fit", "format", "filter", "background"):
        if not isinstance(getattr(settings, name), str):
            wrong(name, "a str")
    for name in ("upscale", "embedded_thumbnails", "color", "keep_metadata"):
        if not isinstance(getattr(settings, name), bool):
            wrong(name, "True or False")
    size = settings.size
    if (
        not isinstance(size, (tuple, list))
        or len(size) != 2
        or any(side is not None and (isinstance(side, bool) or not isinstance(side, int)) for side in size)
    ):
        wrong("size", "a (width, height) pair of ints (or None for a free side)")


def _data(data: Any) -> Any:
    """The image's bytes as the native module takes them (bytes or bytearray as they are;
    a memoryview or other buffer copied once)."""
    if isinstance(data, (bytes, bytearray)):
        return data
    if isinstance(data, memoryview) or hasattr(data, "__buffer__"):
        return memoryview(data).tobytes()
    raise TypeError(f"data must be bytes, bytearray or a buffer, not {type(data).__name__}")


def _converted(convert: Callable[..., Any], *args: Any) -> Any:
    """Runs one conversion of the native module: its settings errors (``RunError``, the
    command's usage errors) are ``ValueError``s here, as Python expects of bad values."""
    try:
        return convert(*args)
    except RunError as error:
        raise ValueError(error.message) from None


def _settings(settings: Optional[Settings], conversion: Mapping[str, Any]) -> List[str]:
    if settings is not None:
        if conversion:
            raise TypeError("give either settings= or keyword arguments, not both")
        return settings.flags()
    unknown = set(conversion) - {f.name for f in dataclasses.fields(Settings)}
    if unknown:
        raise TypeError(f"unexpected keyword argument(s): {', '.join(sorted(unknown))}")
    return Settings(**conversion).flags()


def thumbnail(
    data: _Data, *, settings: Optional[Settings] = None, **conversion: Unpack[Conversion]
) -> bytes:
    """The encoded thumbnail of ``data`` (the bytes of an image in any format imgpar
    reads): byte-identical to what ``imgpar`` writes for that file with the same flags.
    Keyword arguments: those of ``Settings`` (``size=(256, 256)``, ``fit="contain"``,
    ``format="png"``, ``quality=85``, ``filter="lanczos3"``, ``upscale=False``,
    ``max_pixels=100_000_000``, ``speed=8``, ``embedded_thumbnails=True``,
    ``background="white"``, ``color=False``, ``keep_metadata=False``). Raises
    ``ImageError`` for a bad image."""
    return _converted(_imgpar.thumbnail, _data(data), _settings(settings, conversion))


def thumbnail_file(
    path: _Path, *, settings: Optional[Settings] = None, **conversion: Unpack[Conversion]
) -> bytes:
    """``thumbnail`` of the file at ``path``, read as it decodes (a JPEG or PNG is never
    held whole): the memory follows the thumbnail, not the picture. The file's extension
    counts as in a batch (a ``.tga`` is read as TGA)."""
    return _converted(_imgpar.thumbnail_file, os.fspath(path), _settings(settings, conversion))


def thumbnail_array(
    data: _Data, *, settings: Optional[Settings] = None, **conversion: Unpack[Conversion]
) -> numpy.typing.NDArray[numpy.uint8]:
    """The thumbnail's pixels as a NumPy ``uint8`` array of shape ``(h, w)``, or
    ``(h, w, 2)`` (gray, alpha) when the input has alpha; with ``color=True``, ``(h, w,
    3)`` (RGB, sRGB) or ``(h, w, 4)`` (RGBA) for a colour picture (a gray one stays
    ``(h, w)``): exactly what decoding ``thumbnail(data, format="png")`` gives. Needs
    NumPy."""
    import numpy

    if "format" in conversion:
        raise TypeError("thumbnail_array gives pixels, not a file: format= does not apply")
    pixels, height, width, channels = _converted(
        _imgpar.thumbnail_pixels, _data(data), _settings(settings, conversion)
    )
    array = numpy.frombuffer(pixels, dtype=numpy.uint8)
    shape = (height, width) if channels == 1 else (height, width, channels)
    return array.reshape(shape)


def without_provenance(output: _Data) -> bytes:
    """``output`` (a file a run wrote) without the line that says what it was made from
    (the hash of its input's name and its settings, which ``--skip-existing`` reads back):
    the bytes ``thumbnail`` gives for the same picture and settings."""
    return _imgpar.without_provenance(_data(output))


@dataclasses.dataclass
class Report:
    """What a run did: counts, and each image's record (dicts with the JSON report's
    fields: ``input``, ``output``, ``status``, ``error``, ``error_kind``, times and
    sizes). ``totals`` holds every figure of the JSON report besides ``images``
    (``wall_s``, ``images_per_s``, ``parallel_efficiency``, ...). Pickles."""

    ok: int
    failed: int
    skipped: int
    images: List[Dict[str, Any]]
    totals: Dict[str, Any]
    #: The exit code the ``imgpar`` command gives for the same run: 0 all done, 1 some
    #: failed, 3 stopped early because the output could not take more files.
    exit_code: int = 0

    def to_dict(self) -> Dict[str, Any]:
        """The report as the ``--report`` file holds it: the totals and ``images``."""
        return {**self.totals, "images": self.images}


def run(
    inputs: Union[_Path, Iterable[_Path]],
    output: _Path,
    *,
    mode: Mode = "threaded",
    jobs: Optional[int] = None,
    shard: Optional[Union[str, Tuple[int, int]]] = None,
    overwrite: bool = False,
    skip_existing: bool = False,
    report: Optional[_Path] = None,
    progress: Optional[Callable[[Dict[str, Any]], Any]] = None,
    keep_images: bool = True,
    settings: Optional[Settings] = None,
    **flags: Any,
) -> Report:
    """Converts every image of ``inputs`` (folders, files, URL lists, bucket prefixes)
    into ``output``, as ``imgpar INPUT... OUTPUT`` with the same flags would, and prints
    nothing. ``mode`` is ``sequential``, ``threaded``, ``async`` or ``process``;
    ``shard=(i, n)`` or ``"i/n"`` takes a share of the plan (without it, an array task's
    share is read from the environment, as the command does). ``report`` writes the JSON
    report file as the run goes. ``progress`` is called with each image's record as it
    ends, from a worker thread. ``settings=`` gives the conversion as a ``Settings``
    (its ``format`` included: ``png`` unless set, where the command's default is
    ``same``). Any other keyword is the command's flag of that name (``size=(128, 128)``,
    ``format="webp"``, ``timeout=30``, ``urls="list.txt"``...).

    Raises ``RunError`` when the run cannot start (settings, inputs, output), and
    ``KeyboardInterrupt`` on Ctrl-C once the images in progress have ended. Images that
    fail are in the report, not raised. Set ``keep_images=False`` for very large runs: the
    report then has the counts and totals, and ``progress`` or ``report`` the records.
    """
    if isinstance(inputs, (str, os.PathLike)):
        inputs = [inputs]
    args = [os.fspath(i) for i in inputs] + [os.fspath(output), "--mode", mode]
    if jobs is not None:
        flags["jobs"] = jobs
    if shard is not None:
        flags["shard"] = shard if isinstance(shard, str) else f"{shard[0]}/{shard[1]}"
    flags.update(overwrite=overwrite, skip_existing=skip_existing, report=report)
    if "embedded_thumbnails" in flags:
        # Settings' name for the command's --no-embedded-thumbnails.
        flags["no_embedded_thumbnails"] = not flags.pop("embedded_thumbnails")
    if settings is not None:
        args += settings.flags()
    args += _flags(flags)
    totals_json, records, exit_code = _imgpar.run(args, progress, keep_images)
    totals = json.loads(totals_json)
    return Report(
        ok=totals.get("ok", 0),
        failed=totals.get("failed", 0),
        skipped=totals.get("skipped", 0),
        images=[json.loads(r) for r in records],
        totals=totals,
        exit_code=exit_code,
    )


def _flags(options: Dict[str, Any]) -> List[str]:
    """Keyword arguments as the command's flags: ``max_pixels=5`` is ``--max-pixels 5``,
    ``True`` a bare flag, ``False`` and ``None`` nothing, a size ``(w, h)`` is ``--size
    WxH`` (``(w, None)``: ``--width w``), a list repeats the flag."""
    args: List[str] = []
    for name, value in options.items():
        flag = "--" + name.replace("_", "-")
        if value is None or value is False:
            continue
        if value is True:
            args.append(flag)
        elif name == "size":
            width, height = value
            if width is not None and height is not None:
                args += [flag, f"{width}x{height}"]
            else:
                if width is not None:
                    args += ["--width", str(width)]
                if height is not None:
                    args += ["--height", str(height)]
        elif isinstance(value, (list, tuple)):
            for item in value:
                args += [flag, os.fspath(item) if isinstance(item, os.PathLike) else str(item)]
        else:
            args += [flag, os.fspath(value) if isinstance(value, os.PathLike) else str(value)]
    return args
