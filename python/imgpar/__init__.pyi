import os
from typing import Any, Callable, Dict, Iterable, List, Literal, Optional, Tuple, TypedDict, Union

import numpy
import numpy.typing
from typing_extensions import Unpack

__version__: str
MODES: Tuple[str, ...]

_Path = Union[str, "os.PathLike[str]"]
_Data = Union[bytes, bytearray, memoryview]
Size = Tuple[Optional[int], Optional[int]]
Mode = Literal["sequential", "threaded", "async", "process"]
Fit = Literal["contain", "cover", "fill"]
Format = Literal["png", "jpeg", "jpg", "JPEG", "PNG", "webp", "webp-lossless", "avif", "same"]
Filter = Literal["lanczos3", "catmull-rom", "bilinear", "box", "nearest"]

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

class ImageError(ValueError):
    message: str
    kind: str
    def __init__(self, message: str, kind: str) -> None: ...

class RunError(Exception):
    message: str
    code: int
    def __init__(self, message: str, code: int) -> None: ...

class Settings:
    size: Size
    fit: Fit
    format: Format
    quality: int
    filter: Filter
    upscale: bool
    max_pixels: int
    speed: int
    def __init__(self, **conversion: Unpack[Conversion]) -> None: ...
    def flags(self) -> List[str]: ...

class Report:
    ok: int
    failed: int
    skipped: int
    images: List[Dict[str, Any]]
    totals: Dict[str, Any]
    exit_code: int
    def __init__(
        self,
        ok: int,
        failed: int,
        skipped: int,
        images: List[Dict[str, Any]],
        totals: Dict[str, Any],
        exit_code: int = ...,
    ) -> None: ...
    def to_dict(self) -> Dict[str, Any]: ...

def thumbnail(
    data: _Data,
    *,
    settings: Optional[Settings] = ...,
    **conversion: Unpack[Conversion],
) -> bytes: ...
def thumbnail_file(
    path: _Path,
    *,
    settings: Optional[Settings] = ...,
    **conversion: Unpack[Conversion],
) -> bytes: ...
def thumbnail_array(
    data: _Data,
    *,
    settings: Optional[Settings] = ...,
    **conversion: Unpack[Conversion],
) -> numpy.typing.NDArray[numpy.uint8]: ...
def without_provenance(output: _Data) -> bytes: ...
def run(
    inputs: Union[_Path, Iterable[_Path]],
    output: _Path,
    *,
    mode: Mode = ...,
    jobs: Optional[int] = ...,
    shard: Optional[Union[str, Tuple[int, int]]] = ...,
    overwrite: bool = ...,
    skip_existing: bool = ...,
    report: Optional[_Path] = ...,
    progress: Optional[Callable[[Dict[str, Any]], Any]] = ...,
    keep_images: bool = ...,
    settings: Optional[Settings] = ...,
    **flags: Any,
) -> Report: ...
