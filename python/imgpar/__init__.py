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
from ._flags import flags as _as_flags
from ._flags import run_flags as _run_flags
from ._plan import Plan, PlanHeader, PlanRow, RowConverter, convert, convert_batch, plan
from ._report import Report, merge_reports
from ._report import of_run as _of_run

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
    "Plan",
    "PlanHeader",
    "PlanRow",
    "Report",
    "RowConverter",
    "RunError",
    "Settings",
    "convert",
    "convert_batch",
    "merge_reports",
    "plan",
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

    def __reduce__(self) -> Tuple[Any, Tuple[str, str]]:
        return (type(self), (self.message, self.kind))


class RunError(Exception):
    """A run, or a conversion's settings, could not start or finish. ``code`` is the exit
    code the ``imgpar`` command gives for the same run (2: settings, inputs, an output
    folder that cannot be made). An interrupted run raises ``KeyboardInterrupt``."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.message = message
        self.code = code

    def __reduce__(self) -> Tuple[Any, Tuple[str, int]]:
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
        return _as_flags(options)


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
    """The image's bytes as the native module takes them: ``bytes`` and read-only
    contiguous buffers (a ``memoryview`` of bytes, a NumPy array with ``writeable``
    off, an Arrow buffer or binary scalar) as they are, read in place; a writable buffer
    (``bytearray``, a NumPy array) copied once, since it could change while the image
    converts with the GIL released."""
    if isinstance(data, bytes):
        return data
    # An Arrow array's values never change (Arrow's contract), whatever its buffers say.
    arrow_value = hasattr(data, "as_buffer") and not isinstance(data, memoryview)
    if arrow_value:
        # An Arrow binary scalar: its value's buffer (None for a null).
        data = data.as_buffer()
        if data is None:
            raise TypeError("a null Arrow value holds no image")
    try:
        view = memoryview(data)
    except TypeError:
        raise TypeError(
            f"data must be bytes, bytearray or a buffer, not {type(data).__name__}"
        ) from None
    # An Arrow buffer says whether it may change (``is_mutable``); its export is writable
    # either way.
    unchanging = view.readonly or arrow_value or getattr(data, "is_mutable", True) is False
    if unchanging and view.c_contiguous:
        return view if view.format == "B" else view.cast("B")
    return view.tobytes()


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
    made: bytes = _converted(_imgpar.thumbnail, _data(data), _settings(settings, conversion))
    return made


def thumbnail_file(
    path: _Path, *, settings: Optional[Settings] = None, **conversion: Unpack[Conversion]
) -> bytes:
    """``thumbnail`` of the file at ``path``, read as it decodes (a JPEG or PNG is never
    held whole): the memory follows the thumbnail, not the picture. The file's extension
    counts as in a batch (a ``.tga`` is read as TGA)."""
    made: bytes = _converted(
        _imgpar.thumbnail_file, os.fspath(path), _settings(settings, conversion)
    )
    return made


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


def run(
    inputs: Union[_Path, Iterable[_Path], None] = None,
    output: Optional[_Path] = None,
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
    engine: Any = None,
    batch_size: Optional[int] = None,
    urls: Union[_Path, Iterable[str], None] = None,
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
    ``same``). ``urls=`` is a URL list's path, or the URLs themselves (any iterable of
    strings). ``root=`` keeps the folders of the files (and folders) given below it:
    ``run(["in/2024/a.jpg", "in/2025/a.jpg"], "out", root="in")`` writes
    ``out/2024/a.png`` and ``out/2025/a.png``. Any other keyword is the command's flag of
    that name (``size=(128, 128)``, ``format="webp"``, ``timeout=30``...).

    ``engine=`` runs the batch on a cluster: a ``dask.distributed.Client``, a
    ``pyspark.sql.SparkSession``, or ``"ray"`` (Ray initialised or connected). The plan is
    made once here (``plan``), its rows go to the engine in batches of ``batch_size``
    (default: four batches per core the engine has), each task converts its batch with
    as many threads as ``jobs`` (default: the CPUs a task is given, ``spark.task.cpus`` on
    Spark, 1 on Dask and Ray, whose tasks ask for ``jobs`` CPUs) and every guarantee
    of a run, and the batches' reports come back merged (``Report.complete`` says the
    plan is done). Outputs that exist already are skipped when they carry this plan's
    provenance (a re-run, a retried or speculative task), and fail otherwise, unless
    ``overwrite=True``. The report's ``totals`` are ``merge_reports``'s, with
    ``engine_wall_s`` the seconds from handing out the batches to their merge (``wall_s``
    is the longest batch's). ``report=`` is then a folder: each batch's report is written into
    it (``imgpar merge-reports FOLDER`` checks them as it checks an array's).

    Raises ``RunError`` when the run cannot start (settings, inputs, output), and
    ``KeyboardInterrupt`` on Ctrl-C once the images in progress have ended. Images that
    fail are in the report, not raised. Set ``keep_images=False`` for very large runs: the
    report then has the counts and totals, and ``progress`` or ``report`` the records.
    """
    if inputs is None:
        inputs = []
    elif isinstance(inputs, (str, os.PathLike)):
        inputs = [inputs]
    if output is None:
        raise TypeError("run() needs output=: the folder or bucket prefix to write to")
    with _url_list(urls) as url_lists:
        options: Dict[str, Any] = dict(flags, urls=url_lists)
        if settings is not None:
            conversion = settings.flags()
        else:
            conversion = []
        if engine is not None:
            from . import _engines

            if progress is not None or shard is not None:
                raise TypeError("engine= takes neither progress= nor shard=: the engine's "
                                "tasks share the plan, and the records come back in the report")
            on = _engines.engine_of(engine, jobs)
            options.update(overwrite=overwrite, skip_existing=skip_existing or not overwrite)
            planned = plan(inputs, output, settings=settings, **options)
            return _engines.run_on(on, planned, batch_size=batch_size, report=report)
        args = [os.fspath(i) for i in inputs] + [os.fspath(output), "--mode", mode]
        if jobs is not None:
            options["jobs"] = jobs
        if shard is not None:
            options["shard"] = shard if isinstance(shard, str) else f"{shard[0]}/{shard[1]}"
        options.update(overwrite=overwrite, skip_existing=skip_existing, report=report)
        args += conversion + _run_flags(options)
        return _of_run(_imgpar.run(args, progress, keep_images))


class _url_list:
    """``urls=`` as the command's ``--urls`` takes it: a path as it is; URLs given in
    memory written to a temporary list for the run's length (removed after)."""

    def __init__(self, urls: Union[_Path, Iterable[str], None]) -> None:
        self.urls = urls
        self.temporary: Optional[str] = None

    def __enter__(self) -> Optional[List[str]]:
        if self.urls is None:
            return None
        if isinstance(self.urls, (str, os.PathLike)):
            return [os.fspath(self.urls)]
        import tempfile

        with tempfile.NamedTemporaryFile(
            "w", suffix=".txt", prefix="imgpar-urls-", delete=False, encoding="utf-8"
        ) as listed:
            self.temporary = listed.name
            for url in self.urls:
                if not isinstance(url, str) or "\n" in url:
                    raise TypeError(f"urls= holds URLs (str, one line each), not {url!r}")
                listed.write(url + "\n")
        return [self.temporary]

    def __exit__(self, *exc: Any) -> None:
        if self.temporary is not None:
            os.unlink(self.temporary)
