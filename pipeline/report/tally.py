"""The counts run.json and the Summary sheet share, and the Summary lines.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from pipeline.models import (
    FIELDS,
    Certificate,
    Overall,
    RowResult,
    TextSource,
    Verdict,
)
from pipeline.ota import OtaImage
from pipeline.report.rows import LINK_ORPHAN, LINK_REUSED, LINK_SHARED, LINK_SINGLE, Link, judgement_for

# --- counts and summary -----------------------------------------------------------------------


class Tally:
    """The counts run.json and the Summary sheet share, kept as rows arrive; zeros included."""

    def __init__(self) -> None:
        self.rows = 0
        self.overall: Counter[Overall] = Counter()
        self.by_field: dict[str, Counter[Verdict]] = {f.value: Counter() for f in FIELDS}
        self.certificates = 0
        self.readable = 0
        self.text_source: Counter[TextSource] = Counter()
        self.errors: Counter[str] = Counter()
        self.links: Counter[str] = Counter()
        self.problems = 0
        self.reused_rows = 0
        self.evidence: Counter[str] = Counter()
        self.device_type: Counter[str] = Counter()
        self.ota_status: Counter[str] = Counter()

    def result(self, result: RowResult) -> None:
        self.rows += 1
        self.overall[result.overall] += 1
        for f in FIELDS:
            j = judgement_for(result, f)
            if j is not None:
                self.by_field[f.value][j.status] += 1
        self.reused_rows += bool(result.reuse_group)
        if result.evidence_check:
            self.evidence["OK" if result.evidence_check == "OK" else "FAILED"] += 1
        if result.device_type_status:
            self.device_type[result.device_type_status] += 1
        self.ota_status[result.ota_status] += 1

    def certificate(self, certificate: Certificate, link: Link) -> None:
        self.certificates += 1
        self.text_source[certificate.text_source] += 1
        if certificate.ok:
            self.readable += 1
            self.links[link.kind] += 1
        if certificate.error is not None:
            self.errors[certificate.error.reason.value] += 1

    def counts(self, ota_images: Sequence[OtaImage] | None = None) -> dict[str, Any]:
        fields_total: Counter[Verdict] = sum(self.by_field.values(), Counter())
        counts: dict[str, Any] = {
            "rows": self.rows,
            "overall": {o.value: self.overall[o] for o in Overall},
            "fields": {v.value: fields_total[v] for v in Verdict},
            "fields_by_name": {
                f: {v.value: c[v] for v in Verdict} for f, c in self.by_field.items()
            },
            "certificates": self.certificates,
            "certificate_status": {"OK": self.readable, "ERROR": self.certificates - self.readable},
            "text_source": {t.value: self.text_source[t] for t in TextSource},
            "certificate_errors": dict(sorted(self.errors.items())),
            "problems": self.problems,
            "certificate_links": {
                k: self.links[k] for k in (LINK_ORPHAN, LINK_SINGLE, LINK_SHARED, LINK_REUSED)
            },
            "rows_in_reused_groups": self.reused_rows,
            "evidence": {"OK": self.evidence["OK"], "FAILED": self.evidence["FAILED"]},
            "device_type": dict(sorted(self.device_type.items())),
        }
        if ota_images is not None:
            errors = Counter(i.error_reason for i in ota_images if not i.ok)
            counts["ota_images"] = {
                "total": len(ota_images), "OK": sum(i.ok for i in ota_images),
                "ERROR": sum(not i.ok for i in ota_images), **dict(sorted(errors.items())),
            }
            counts["ota_status"] = dict(sorted(self.ota_status.items()))
        return counts


def _summary(counts: Mapping[str, Any], run_info: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Key/value lines for the Summary sheet: counts first, then the run's inputs and versions."""
    lines = [("rows", str(counts["rows"]))]
    lines += [(f"overall {k}", str(v)) for k, v in counts["overall"].items()]
    lines += [(f"field {k}", str(v)) for k, v in counts["fields"].items()]
    for name, by_status in counts["fields_by_name"].items():
        lines += [(f"{name} {k}", str(v)) for k, v in by_status.items() if v]
    lines.append(("certificates", str(counts["certificates"])))
    lines += [(f"certificates {k}", str(v)) for k, v in counts["certificate_status"].items()]
    lines += [(f"text_source {k}", str(v)) for k, v in counts["text_source"].items()]
    lines += [(f"certificate error {k}", str(v)) for k, v in counts["certificate_errors"].items()]
    lines += [(f"certificates {k}", str(v)) for k, v in counts.get("certificate_links", {}).items()]
    if "rows_in_reused_groups" in counts:
        lines.append(("rows in reused-certificate groups", str(counts["rows_in_reused_groups"])))
        lines += [(f"evidence {k}", str(v)) for k, v in counts["evidence"].items()]
        lines += [(f"device_type {k}", str(v)) for k, v in counts["device_type"].items()]
    lines += [(f"ota images {k}", str(v)) for k, v in counts.get("ota_images", {}).items()]
    lines += [(f"ota_status {k}", str(v)) for k, v in counts.get("ota_status", {}).items()]
    lines.append(("problems", str(counts["problems"])))
    lines += list(_flatten("", run_info))
    return lines


def _flatten(prefix: str, value: Any) -> Iterator[tuple[str, str]]:
    """run_info's shape belongs to the CLI; show any nesting as dotted keys rather than guess."""
    if isinstance(value, Mapping):
        for k, v in value.items():
            yield from _flatten(f"{prefix}.{k}" if prefix else str(k), v)
    elif isinstance(value, list | tuple):
        for i, v in enumerate(value):
            yield from _flatten(f"{prefix}[{i}]", v)
    else:
        yield prefix, "" if value is None else str(value)
