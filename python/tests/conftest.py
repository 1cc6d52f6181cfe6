"""Shared pieces of the package's tests: the repository's fixtures, and the imgpar
command they compare against (the Rust binary the harness built, named by IMGPAR_BIN;
else the `imgpar` the package installed)."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "fixtures"
IMAGES = FIXTURES / "images"
BROKEN = FIXTURES / "broken"
FORMATS = ["png", "jpeg", "webp", "webp-lossless", "avif"]


def imgpar_command():
    command = os.environ.get("IMGPAR_BIN") or shutil.which("imgpar")
    assert command, "no imgpar command: set IMGPAR_BIN or install the package"
    return command


def cli_outputs(inputs, out, *flags):
    """Runs the imgpar command on `inputs` into `out`; returns {input path: output bytes}
    for every image it converted, read through its report."""
    report = Path(out) / "report.json"
    done = subprocess.run(
        [imgpar_command(), *map(str, inputs), str(out), "--quiet", "--report", str(report), *flags],
        capture_output=True,
        text=True,
    )
    assert done.returncode in (0, 1), done.stderr
    records = json.loads(report.read_text())["images"]
    return {
        Path(r["input"]).resolve(): Path(r["output"]).read_bytes()
        for r in records
        if r["status"] == "ok"
    }


@pytest.fixture
def out(tmp_path):
    return tmp_path / "out"


def without_provenance(data):
    """An output of the command without the provenance line imgpar places in it (a PNG
    tEXt chunk, a JPEG comment, a WebP XMP chunk, an AVIF free box at the end): the bytes
    the library's thumbnail() gives for the same picture, which has no input to name."""
    mark = b"imgpar-provenance/1 "
    at = data.find(mark)
    if at < 0:
        return data
    if data.startswith(b"\x89PNG"):
        start = data.rfind(b"tEXt", 0, at) - 4
        length = int.from_bytes(data[start : start + 4], "big")
        return data[:start] + data[start + 12 + length :]
    if data.startswith(b"\xff\xd8"):
        start = at - 4
        length = int.from_bytes(data[start + 2 : start + 4], "big")
        return data[:start] + data[start + 2 + length :]
    if data.startswith(b"RIFF"):
        chunks, pos = [], 12
        while pos + 8 <= len(data):
            tag, size = data[pos : pos + 4], int.from_bytes(data[pos + 4 : pos + 8], "little")
            chunks.append((tag, data[pos + 8 : pos + 8 + size]))
            pos += 8 + size + (size & 1)
        chunks = [(t, c) for t, c in chunks if t != b"XMP "]
        if chunks[0][0] == b"VP8X":
            flags = chunks[0][1][0] & ~0x04
            if len(chunks) == 2:  # a simple file, made extended to hold the XMP
                chunks = chunks[1:]
            else:
                chunks[0] = (b"VP8X", bytes([flags]) + chunks[0][1][1:])
        body = b"".join(t + len(c).to_bytes(4, "little") + c + b"\0" * (len(c) & 1) for t, c in chunks)
        return b"RIFF" + (len(body) + 4).to_bytes(4, "little") + b"WEBP" + body
    # AVIF: a top-level free box after the rest.
    return data[: at - 8]
