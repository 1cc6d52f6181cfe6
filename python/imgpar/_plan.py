"""The plan as data: ``plan`` plans once and returns its rows (small, picklable, what
``imgpar plan`` writes into shard files); ``convert`` and ``convert_batch`` convert rows
wherever they are sent, with every guarantee of a run; the batches' reports merge into
the plan's (``merge_reports``)."""

from __future__ import annotations

import dataclasses
import json
import os
from typing import (
    TYPE_CHECKING,
    Any,
    Dict,
    Iterable,
    Iterator,
    List,
    Optional,
    Sequence,
    Union,
    overload,
)

from . import _imgpar
from ._flags import run_flags
from ._report import Report, of_run

if TYPE_CHECKING:
    from . import Settings

_Path = Union[str, "os.PathLike[str]"]


@dataclasses.dataclass(frozen=True, slots=True)
class PlanHeader:
    """What every row of a plan shares: its output folder or prefix, the conversion
    settings, what to do with an existing output, and the whole plan's identity and
    size. A row converts only with its plan's header. Small; pickles."""

    #: The header line of the plan (JSON, as a shard file's first line).
    header: str
    #: The end line of the plan (JSON: its identity and counts).
    end: str

    @property
    def plan_id(self) -> str:
        """The plan's identity (a digest of its images, names, output and settings): the
        ``plan.id`` every report of the plan carries."""
        return str(json.loads(self.end)["end"]["plan"]["id"])

    @property
    def images(self) -> int:
        """Images in the whole plan (inputs that failed before becoming images included)."""
        return int(json.loads(self.end)["end"]["plan_images"])


@dataclasses.dataclass(frozen=True, slots=True)
class PlanRow:
    """One image of a plan: its input, its output (below the plan's output), format and
    plan key, as a line of JSON (what ``imgpar plan`` writes), or an input that failed
    before it could be an image. Small; pickles."""

    #: The row's line (JSON).
    line: str

    @property
    def input(self) -> str:
        """The input: a file's absolute path, a URL or an object address."""
        row = json.loads(self.line)
        if "problem" in row:
            return _text(row["problem"]["input"])
        (where,) = row["job"]["input"].values()
        return _text(where)

    @property
    def output(self) -> Optional[str]:
        """The output's path below the plan's output (``None`` for an input that failed)."""
        row = json.loads(self.line)
        return _text(row["job"]["output"]) if "job" in row else None

    @property
    def problem(self) -> Optional[str]:
        """Why the input failed before it could be an image, if it did."""
        row = json.loads(self.line)
        return row["problem"]["error"] if "problem" in row else None


class _Rows(Sequence[PlanRow]):
    """A plan's lines seen as ``PlanRow``s, each made as it is read."""

    __slots__ = ("_lines",)

    def __init__(self, lines: List[str]) -> None:
        self._lines = lines

    def __len__(self) -> int:
        return len(self._lines)

    @overload
    def __getitem__(self, index: int) -> PlanRow: ...
    @overload
    def __getitem__(self, index: slice) -> List[PlanRow]: ...
    def __getitem__(self, index: Union[int, slice]) -> Union[PlanRow, List[PlanRow]]:
        if isinstance(index, slice):
            return [PlanRow(line) for line in self._lines[index]]
        return PlanRow(self._lines[index])


def _text(value: Union[str, List[int]]) -> str:
    """A name as a row carries it: text, or bytes (not UTF-8) as the file system's."""
    return value if isinstance(value, str) else os.fsdecode(bytes(value))


@dataclasses.dataclass(frozen=True)
class Plan:
    """A whole plan: its ``header`` and its rows in plan order (``rows``; iterating yields
    them too). The rows are held as their lines (``lines``), a ``PlanRow`` made as one is
    read, so a plan of millions of images costs about the size of its lines.
    ``batches`` splits them for tasks."""

    header: PlanHeader
    #: The rows' lines (JSON), in plan order.
    lines: List[str]

    @property
    def rows(self) -> "Sequence[PlanRow]":
        """The rows, in plan order (indexable, sliceable)."""
        return _Rows(self.lines)

    def __iter__(self) -> Iterator[PlanRow]:
        return (PlanRow(line) for line in self.lines)

    def __len__(self) -> int:
        return len(self.lines)

    def batches(self, size: int) -> List[List[PlanRow]]:
        """The rows in plan order, ``size`` a batch (the last may be smaller; one empty
        batch for an empty plan): what ``convert_batch`` takes, batch ``i`` of
        ``len(batches)``."""
        return [[PlanRow(line) for line in lines] for lines in self.line_batches(size)]

    def line_batches(self, size: int) -> List[List[str]]:
        """``batches`` as the rows' lines, without making a ``PlanRow`` of each."""
        if size < 1:
            raise ValueError("a batch holds at least one row")
        return [self.lines[at : at + size] for at in range(0, len(self.lines), size)] or [[]]

    def report(self, records: Iterable[Dict[str, Any]]) -> Report:
        """The report of this plan from the records of its images, however they were
        converted (``convert``, a Ray Data transform): merged as ``merge_reports``
        merges, so ``complete`` says whether every image has its record, once."""
        records = list(records)
        counts = {status: 0 for status in ("ok", "failed", "skipped")}
        for record in records:
            counts[record["status"]] += 1
        identity = json.loads(self.header.end)["end"]["plan"]
        totals = {
            "planned": self.header.images,
            "not_started": max(0, self.header.images - len(records)),
            "plan": identity,
            **counts,
        }
        whole = Report(images=records, totals=totals, **counts)
        return whole.merge()


def plan(
    inputs: Union[_Path, Iterable[_Path], None],
    output: _Path,
    *,
    settings: Optional["Settings"] = None,
    **flags: Any,
) -> Plan:
    """Plans the run ``imgpar.run(inputs, output, ...)`` would make, once, and returns it
    as data: names decided over the whole plan (one output per image, collisions and
    sub-folders as a run decides them), local paths made absolute so rows convert from
    any folder or machine that sees the same paths. Keywords are ``run``'s conversion,
    input and existing-output flags (``skip_existing=True``, ``overwrite=True``,
    ``urls=``...); ``settings=`` a ``Settings``. Nothing is converted or written. Raises
    ``RunError`` as ``run`` does when the inputs or settings are wrong."""
    if inputs is None:
        inputs = []
    elif isinstance(inputs, (str, os.PathLike)):
        inputs = [inputs]
    args = [os.fspath(i) for i in inputs] + [os.fspath(output)]
    if settings is not None:
        args += settings.flags()
    args += run_flags(flags)
    header, lines, end, _plan_id = _imgpar.plan(args)
    return Plan(PlanHeader(header, end), lines)


def convert_batch(
    rows: Sequence[PlanRow],
    header: PlanHeader,
    *,
    index: int = 0,
    count: int = 1,
    jobs: int = 1,
    progress: Any = None,
) -> Report:
    """Converts ``rows`` of the plan ``header`` belongs to, as batch ``index`` of
    ``count``, with ``jobs`` threads (1: one at a time, in this thread's task): every
    guarantee of ``imgpar run --plan`` (outputs committed whole and create-only, the
    plan's existing-output policy, a record per row). An output that exists already
    holding exactly the bytes its image converts to counts as converted when the plan
    neither skips nor overwrites, so a batch converted twice fails nothing. Returns the
    batch's report: ``merge_reports`` of all the batches' says whether the plan is done.
    Raises ``RunError`` when the output cannot be used."""
    mode = "sequential" if jobs <= 1 else "threaded"
    lines = [row.line for row in rows]
    ran = _imgpar.convert_rows(
        header.header, header.end, lines, index, count, mode, max(1, jobs), progress
    )
    return of_run(ran)


def convert(row: PlanRow, header: PlanHeader) -> Dict[str, Any]:
    """Converts one row of the plan ``header`` belongs to, as ``convert_batch`` does, and
    returns its record (a dict as the JSON report holds it: ``status``, ``error``,
    ``output``...)."""
    report = convert_batch([row], header)
    (record,) = report.images
    return record


class RowConverter:
    """A batch transform for data frames of plan rows (Ray Data's ``map_batches``, or any
    engine handing a task a dict of columns): ``converter(batch)`` converts the rows of
    its ``row`` column (``PlanRow.line`` strings) as ``convert_batch`` does, and returns
    one record per row as columns: ``input``, ``output``, ``status``, ``error`` and
    ``record`` (the record as JSON; ``Plan.report`` of them all says whether the plan is
    done). A batch of a binary-files dataset (``bytes`` and ``path`` columns, as Ray's
    ``read_binary_files(include_paths=True)`` gives) is converted in memory instead, with
    the conversion ``settings``: ``thumbnail`` and ``error`` columns, nothing written.
    Pickles; the GIL is released while it converts."""

    def __init__(self, header: Optional[PlanHeader] = None, *, jobs: int = 1, settings: Any = None):
        self.header = header
        self.jobs = jobs
        self.settings = settings

    def __call__(self, batch: Dict[str, Any]) -> Dict[str, List[Any]]:
        if "bytes" in batch:
            return self._thumbnails(batch)
        if self.header is None:
            raise TypeError("a batch of plan rows converts with its plan's header: RowConverter(plan.header)")
        rows = [PlanRow(str(line)) for line in batch["row"]]
        records = convert_batch(rows, self.header, jobs=self.jobs).images
        columns: Dict[str, List[Any]] = {"input": [], "output": [], "status": [], "error": [], "record": []}
        for record in records:
            columns["input"].append(record.get("input"))
            columns["output"].append(record.get("output"))
            columns["status"].append(record["status"])
            columns["error"].append(record.get("error"))
            columns["record"].append(json.dumps(record))
        return columns

    def _thumbnails(self, batch: Dict[str, Any]) -> Dict[str, List[Any]]:
        from . import ImageError, Settings, thumbnail

        settings = self.settings or Settings()
        columns: Dict[str, List[Any]] = {"path": [], "thumbnail": [], "error": []}
        paths = batch.get("path", [None] * len(batch["bytes"]))
        for path, data in zip(paths, batch["bytes"]):
            columns["path"].append(path)
            try:
                columns["thumbnail"].append(thumbnail(data, settings=settings))
                columns["error"].append(None)
            except ImageError as error:
                columns["thumbnail"].append(None)
                columns["error"].append(f"{error.kind}: {error.message}")
        return columns
