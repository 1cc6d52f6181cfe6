"""A type checker reads the package's types from one place (``__init__.py``, with the
native module's stub beside it): a call with the right types passes, a mistyped one is
caught where it is written."""

import subprocess
import sys
import textwrap


def mypy(tmp_path, code):
    sample = tmp_path / "sample.py"
    sample.write_text(textwrap.dedent(code))
    checked = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(sample)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    return checked.returncode, checked.stdout + checked.stderr


def test_calls_with_the_right_types_pass(tmp_path):
    code, said = mypy(
        tmp_path,
        """
        import imgpar

        data: bytes = b""
        small: bytes = imgpar.thumbnail(data, size=(64, None), format="jpeg", quality=90)
        same: bytes = imgpar.thumbnail_file("a.png", settings=imgpar.Settings(fit="cover"))
        pixels = imgpar.thumbnail_array(memoryview(data), upscale=True)
        height: int = pixels.shape[0]
        report = imgpar.run(["in"], "out", mode="process", jobs=2, report="r.json")
        done: int = report.ok + report.exit_code
        plain: bytes = imgpar.without_provenance(bytearray(small))
        plan: imgpar.Plan = imgpar.plan("in", "out", skip_existing=True)
        record = imgpar.convert(plan.rows[0], plan.header)
        batch: imgpar.Report = imgpar.convert_batch(plan.rows, plan.header, jobs=2)
        whole: bool = imgpar.merge_reports([batch]).complete and batch.merge().complete
        """,
    )
    assert code == 0, said


def test_mistyped_calls_are_caught_by_line(tmp_path):
    code, said = mypy(
        tmp_path,
        """
        import imgpar

        imgpar.thumbnail(b"", format="gif")
        imgpar.run(["in"], "out", mode="fast")
        imgpar.thumbnail(b"", quality="high")
        imgpar.Settings(fit="stretch")
        imgpar.thumbnail("not bytes")
        """,
    )
    assert code != 0, said
    flagged = {line.split(":")[1] for line in said.splitlines() if ": error:" in line}
    assert flagged == {"4", "5", "6", "7", "8"}, said


def test_the_package_itself_passes_strict_checking(tmp_path):
    checked = subprocess.run(
        # The engines' packages are imported inside functions: taken as they are.
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental",
         "--follow-imports=skip", "--ignore-missing-imports", "-p", "imgpar"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
