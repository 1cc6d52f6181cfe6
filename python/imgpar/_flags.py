"""Keyword arguments as the ``imgpar`` command's flags: what every function of the package
hands the native module, so that a setting means exactly what its flag means."""

from __future__ import annotations

import os
from typing import Any, Dict, List


def flags(options: Dict[str, Any]) -> List[str]:
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


def run_flags(options: Dict[str, Any]) -> List[str]:
    """``flags`` of a run's keyword arguments, where ``embedded_thumbnails=`` (the name
    ``Settings`` uses) is the command's ``--no-embedded-thumbnails`` turned round."""
    options = dict(options)
    if "embedded_thumbnails" in options:
        options["no_embedded_thumbnails"] = not options.pop("embedded_thumbnails")
    return flags(options)
