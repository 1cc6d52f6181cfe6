"""``Report``: what a run, a task's batch or a merge of reports did, as the command's JSON
report says it."""

from __future__ import annotations

import dataclasses
import json
from typing import Any, Dict, Iterable, List, Tuple

from . import _imgpar

#: The first field of a report file, as the command writes it.
_REPORT_FORMAT = "imgpar-report-2"


@dataclasses.dataclass
class Report:
    """What a run did: counts, and each image's record (dicts with the JSON report's
    fields: ``input``, ``output``, ``status``, ``error``, ``error_kind``, times and
    sizes). ``totals`` holds every figure of the JSON report besides ``images``
    (``wall_s``, ``images_per_s``, ``parallel_efficiency``, ...); for a merge of reports,
    those of ``imgpar merge-reports`` (``complete``, ``missing_shards``, ...). Pickles."""

    ok: int
    failed: int
    skipped: int
    images: List[Dict[str, Any]]
    totals: Dict[str, Any]
    #: The exit code the ``imgpar`` command gives for the same run: 0 all done, 1 some
    #: failed, 3 stopped early because the output could not take more files; for a merge,
    #: ``merge-reports``'s (4: a shard missing, twice, or of another plan).
    exit_code: int = 0

    @property
    def complete(self) -> bool:
        """Whether this report covers its whole plan: every image planned has its record,
        none twice (a merge says so; a run's report is complete unless it was sharded,
        interrupted or stopped)."""
        if "complete" in self.totals:
            return bool(self.totals["complete"])
        shard = self.totals.get("shard") or {"count": 1}
        return (
            shard["count"] == 1
            and not self.totals.get("interrupted")
            and self.totals.get("not_started", 0) == 0
            and len(self.images) == self.totals.get("planned", len(self.images))
        )

    def to_dict(self) -> Dict[str, Any]:
        """The report as the ``--report`` file holds it: the totals and ``images``."""
        return {**self.totals, "images": self.images}

    def to_json(self) -> str:
        """The report as a report file's text (``imgpar merge-reports`` reads it)."""
        return json.dumps({"format": _REPORT_FORMAT, **self.to_dict()})

    def merge(self, *others: "Report") -> "Report":
        """This report and ``others`` (the reports of a plan's shards or batches) merged,
        as ``merge_reports`` merges them."""
        return merge_reports([self, *others])

    @classmethod
    def _of(cls, totals_json: str, records: Iterable[str], exit_code: int) -> "Report":
        totals = json.loads(totals_json)
        return cls(
            ok=totals.get("ok", 0),
            failed=totals.get("failed", 0),
            skipped=totals.get("skipped", 0),
            images=[json.loads(r) for r in records],
            totals=totals,
            exit_code=exit_code,
        )


def merge_reports(reports: Iterable[Any]) -> Report:
    """Merges reports as ``imgpar merge-reports`` does, in this process: each a ``Report``
    or the path of a report file. The result holds every record and the merge's figures
    in ``totals`` (``complete``: the reports add up to exactly one plan, none missing,
    none twice, no output written twice); its ``exit_code`` is the command's (0 complete
    and all done, 1 some failed or not started, 4 incomplete). Raises ``RunError`` when a
    report is not an imgpar report."""
    named: List[Tuple[str, str]] = []
    for number, report in enumerate(reports):
        if isinstance(report, Report):
            named.append((f"report {number + 1}", report.to_json()))
        else:
            path = str(report)
            with open(path, encoding="utf-8") as file:
                named.append((path, file.read()))
    merged, records, exit_code = _imgpar.merge_reports(named)
    return Report._of(merged, records, exit_code)


def of_run(ran: Tuple[str, List[str], int]) -> Report:
    """The ``Report`` of what the native module's ``run`` or ``convert_rows`` returned."""
    totals_json, records, exit_code = ran
    return Report._of(totals_json, records, exit_code)
