import os
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple, TypedDict, Union

import numpy
from typing_extensions import Unpack

__version__: str
MODES: Tuple[str, ...]

_Path = Union[str, "os.PathLike[str]"]
Size = Tuple[Optional[int], Optional[int]]

class Conversion(TypedDict, total=False):
    """The keyword arguments of one conversion (those of ``Settings``)."""

    size: Size
    fit: str
    format: str
    quality: int
    filter: str
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
    fit: str
    format: str
    quality: int
    filter: str
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
    data: bytes,
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
    data: bytes,
    *,
    settings: Optional[Settings] = ...,
    **conversion: Unpack[Conversion],
) -> numpy.ndarray: ...
def run(
    inputs: Union[_Path, Iterable[_Path]],
    output: _Path,
    *,
    mode: str = ...,
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
