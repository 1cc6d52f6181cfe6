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

