"""Whole runs from Python: every mode, the report, progress, process workers, and the
`imgpar` command the package installs."""

import json
import multiprocessing
import os
import pickle
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

import imgpar
from conftest import IMAGES, cli_outputs, imgpar_command

MODES = imgpar.MODES


def outputs(folder):
    return {
        p.relative_to(folder): p.read_bytes()
        for p in Path(folder).rglob("*")
        if p.is_file() and p.name != "report.json"
    }


def copies(folder, fixture, count, suffix):
    """`folder` made and filled with `count` copies of the fixture image `fixture`."""
    folder.mkdir()
    data = (IMAGES / fixture).read_bytes()
    for i in range(count):
        (folder / f"{i:03}{suffix}").write_bytes(data)
    return folder


def test_the_modes_are_the_commands():
    help_text = subprocess.run([imgpar_command(), "--help"], capture_output=True, text=True).stdout
    listed = help_text.split("--mode <MODE>")[1].split("\n\n      -")[0]
    named = [line.strip()[2:].split(":")[0] for line in listed.splitlines() if line.strip().startswith("- ")]
    assert tuple(named) == MODES


@pytest.mark.parametrize("mode", MODES)
def test_every_mode_writes_what_the_command_writes(mode, tmp_path):
    expected = cli_outputs([IMAGES], tmp_path / "cli", "--format", "png")
    report = imgpar.run(IMAGES, tmp_path / "py", mode=mode, jobs=2, format="png")
    assert report.ok == len(expected) and report.failed == 0 and report.exit_code == 0
    assert outputs(tmp_path / "py") == outputs(tmp_path / "cli")
    assert report.totals["mode"] == mode
    assert len(report.images) == report.ok
    assert {r["status"] for r in report.images} == {"ok"}


@pytest.mark.parametrize("thumbnails", [True, False])
def test_records_say_when_a_stored_rendering_made_the_output(thumbnails, tmp_path):
    photos = IMAGES.parent / "photos"
    report = imgpar.run(photos, tmp_path / "out", embedded_thumbnails=thumbnails)
    assert report.ok == 2
    made_from = {Path(r["input"]).name: r.get("decoded_from") for r in report.images}
    assert made_from["camera.nef"] == "embedded_preview"
    assert made_from["phone.heic"] == ("embedded_thumbnail" if thumbnails else None)


def test_the_report_file_and_the_report_agree(tmp_path):
    path = tmp_path / "report.json"
    report = imgpar.run([IMAGES], tmp_path / "out", report=path, size=(64, 64))
    written = json.loads(path.read_text())
    assert written["ok"] == report.ok
    assert sorted(r["input"] for r in written["images"]) == sorted(
        r["input"] for r in report.images
    )
    assert report.to_dict()["images"] == report.images
    assert pickle.loads(pickle.dumps(report)) == report


def test_progress_hears_every_image_from_a_worker_thread(tmp_path):
    heard = []
    main = threading.get_ident()

    def progress(record):
        heard.append((record["input"], threading.get_ident()))

    report = imgpar.run(IMAGES, tmp_path / "out", jobs=2, progress=progress, keep_images=False)
    assert len(heard) == report.ok + report.failed + report.skipped
    assert report.images == []
    assert all(thread != main for _, thread in heard)


def test_an_exception_in_progress_stops_the_run_and_is_raised(tmp_path):
    def progress(record):
        raise RuntimeError("stop here")

    with pytest.raises(RuntimeError, match="stop here"):
        imgpar.run(IMAGES, tmp_path / "out", mode="sequential", progress=progress)
    assert len(list((tmp_path / "out").rglob("*.png"))) < 15


def test_existing_outputs_fail_skip_or_are_replaced(tmp_path):
    first = imgpar.run(IMAGES, tmp_path / "out")
    again = imgpar.run(IMAGES, tmp_path / "out")
    assert again.failed == first.ok
    assert {r["error_kind"] for r in again.images} == {"output_exists"}
    assert imgpar.run(IMAGES, tmp_path / "out", skip_existing=True).skipped == first.ok
    assert imgpar.run(IMAGES, tmp_path / "out", overwrite=True).ok == first.ok


def test_two_runs_racing_with_skip_existing_fail_nothing(tmp_path):
    # An engine's retried or speculative task: the same run twice at once.
    src = copies(tmp_path / "src", "rgb8.png", 60, ".png")
    for attempt in range(3):
        out = tmp_path / f"out{attempt}"
        reports = [None, None]

        def convert(slot):
            reports[slot] = imgpar.run(src, out, skip_existing=True, jobs=2)

        threads = [threading.Thread(target=convert, args=(slot,)) for slot in (0, 1)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for report in reports:
            assert report.failed == 0, [r for r in report.images if r["status"] == "failed"]
            assert report.exit_code == 0
        assert sum(r.ok for r in reports) == 60, [(r.ok, r.skipped) for r in reports]
        assert len(list(out.iterdir())) == 60


def test_shards_split_the_plan(tmp_path):
    counts = [imgpar.run(IMAGES, tmp_path / f"s{i}", shard=(i, 3)).ok for i in range(3)]
    whole = imgpar.run(IMAGES, tmp_path / "all", no_shard=True).ok
    assert sum(counts) == whole and all(counts)


def test_a_run_that_cannot_start_raises_run_error(tmp_path):
    with pytest.raises(imgpar.RunError) as inside:
        imgpar.run(IMAGES, IMAGES / "out")
    assert inside.value.code == 2 and "inside" in str(inside.value)
    with pytest.raises(imgpar.RunError) as mode:
        imgpar.run(IMAGES, tmp_path / "out", mode="fibers")
    assert mode.value.code == 2 and "fibers" in str(mode.value)
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(imgpar.RunError) as output:
        imgpar.run(IMAGES, blocker / "out")
    # The command's exit code for the same run.
    command = subprocess.run([imgpar_command(), str(IMAGES), str(blocker / "out")])
    assert output.value.code == command.returncode == 2
    assert "cannot create output folder" in str(output.value)


def test_process_mode_whose_workers_cannot_import_imgpar_stops_with_one_error(tmp_path):
    # imgpar importable only through the caller's own sys.path: an interpreter without it
    # installed, the package copied beside the script. Its workers (`python -m imgpar`)
    # cannot import it and die before their first image.
    import shutil

    package = tmp_path / "lib" / "imgpar"
    shutil.copytree(Path(imgpar.__file__).parent, package)
    base_python = getattr(sys, "_base_executable", sys.executable)
    assert subprocess.run([base_python, "-c", "import imgpar"], capture_output=True).returncode != 0, (
        "the base interpreter has imgpar installed: the test needs one without"
    )
    script = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {str(package.parent)!r})
        import imgpar
        try:
            imgpar.run({str(IMAGES)!r}, {str(tmp_path / "out")!r}, mode="process", jobs=2)
        except imgpar.RunError as error:
            print("RunError", error.code, error.message)
        """
    )
    done = subprocess.run([base_python, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.stdout.startswith("RunError 2 "), (done.stdout, done.stderr[-2000:])
    assert "cannot start its worker processes" in done.stdout
    assert not any((tmp_path / "out").rglob("*.png"))


def _count(report):
    return report.ok


def test_reports_cross_multiprocessing(tmp_path):
    report = imgpar.run(IMAGES, tmp_path / "out")
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        assert pool.apply(_count, (report,)) == report.ok


def test_process_mode_never_runs_the_callers_program(tmp_path):
    # No `if __name__ == "__main__"` guard: a worker that ran this file again would
    # print `started` again and start runs of its own.
    script = tmp_path / "convert.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import imgpar
            print("started", flush=True)
            report = imgpar.run({str(IMAGES)!r}, {str(tmp_path / "out")!r}, mode="process", jobs=2)
            print("ok", report.ok, "workers", len(report.totals["worker_processes"]))
            """
        )
    )
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "started" and len(lines) == 2, done.stdout
    ok, workers = int(lines[1].split()[1]), int(lines[1].split()[3])
    assert ok >= 15 and workers == 2


def test_the_installed_command_converts(tmp_path):
    command = Path(sys.executable).parent / "imgpar"
    done = subprocess.run(
        [str(command), str(IMAGES), str(tmp_path / "out"), "--mode", "process", "-j", "2"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "converted" in done.stderr or "ok" in done.stderr
    assert len(list((tmp_path / "out").rglob("*.*"))) >= 15
    version = subprocess.run([str(command), "--version"], capture_output=True, text=True)
    assert version.stdout.strip() == f"imgpar {imgpar.__version__}"
    bad = subprocess.run([str(command), "--fit", "nope", "a", "b"], capture_output=True, text=True)
    assert bad.returncode == 2 and "nope" in bad.stderr
    as_module = subprocess.run([sys.executable, "-m", "imgpar", "--help"], capture_output=True)
    assert as_module.returncode == 0 and b"--mode" in as_module.stdout


def test_ctrl_c_winds_the_run_down_and_raises_keyboard_interrupt(tmp_path):
    many = copies(tmp_path / "many", "baseline_444.jpg", 400, ".jpg")
    script = tmp_path / "interrupted.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import os, signal, imgpar
            seen = []
            def progress(record):
                seen.append(record)
                if len(seen) == 5:
                    os.kill(os.getpid(), signal.SIGINT)
            try:
                imgpar.run({str(many)!r}, {str(tmp_path / "out")!r}, mode="sequential",
                           progress=progress, size=(2000, 2000), format="png")
            except KeyboardInterrupt:
                print("interrupted after", len(seen))
            """
        )
    )
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    seen = int(done.stdout.split()[-1])
    assert 5 <= seen < 400, done.stdout
    left = [p for p in (tmp_path / "out").rglob("*") if p.is_file()]
    assert all(not p.name.startswith(".") for p in left), "no temporary file is left"


def test_a_url_list_from_a_server_on_loopback_converts_as_the_command_does(tmp_path):
    import functools
    import http.server

    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(IMAGES))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        port = server.server_address[1]
        names = ["rgb8.png", "baseline_420.jpg", "picture.webp", "missing.png"]
        urls = tmp_path / "urls.txt"
        urls.write_text("".join(f"http://127.0.0.1:{port}/{n}\n" for n in names))
        cli = subprocess.run(
            [imgpar_command(), str(urls), str(tmp_path / "cli"), "--quiet"], capture_output=True
        )
        report = imgpar.run(urls, tmp_path / "py", mode="async")
    finally:
        server.shutdown()
    assert (report.ok, report.failed) == (3, 1)
    assert report.exit_code == cli.returncode == 1
    [missing] = [r for r in report.images if r["status"] == "failed"]
    assert missing["error_kind"] == "download" and "404" in missing["error"]
    assert outputs(tmp_path / "py") == outputs(tmp_path / "cli")


def test_files_given_with_a_root_keep_their_folders(tmp_path):
    # A list of files (as a Spark partition or a query hands them over), not a folder.
    src = tmp_path / "src"
    (src / "2024").mkdir(parents=True)
    (src / "2025").mkdir()
    (src / "2024" / "x.jpg").write_bytes((IMAGES / "gray.jpg").read_bytes())
    (src / "2025" / "x.jpg").write_bytes((IMAGES / "baseline_420.jpg").read_bytes())
    files = sorted(src.rglob("*.jpg"))
    report = imgpar.run(files, tmp_path / "out", root=src, format="png")
    assert report.ok == 2
    assert sorted(outputs(tmp_path / "out")) == [Path("2024/x.png"), Path("2025/x.png")]
    with pytest.raises(imgpar.RunError, match="not below --root"):
        imgpar.run(files, tmp_path / "elsewhere", root=src / "2024")
