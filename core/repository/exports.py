"""Export value-repository entries as spreadsheet-safe CSV or Markdown."""

import csv
import io
import re
from decimal import Decimal

from core.formatting import value_text
from core.integrations.escape import spreadsheet_cell
from core.repository.schemas import RepositoryItem

CSV_HEADER = (
    "Title",
    "Customer",
    "Industry",
    "Use case",
    "Products",
    "Goal type",
    "Value",
    "Unit",
    "Achieved on",
    "Consent",
    "Proof point",
    "Times used",
    "Entry id",
)


def export_csv(entries: list[RepositoryItem]) -> str:
    """Return entries as CSV, consent applied and formula-looking cells defused."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    for e in entries:
        row = (
            e.title,
            e.customer_label,
            e.industry,
            e.use_case or "",
            "; ".join(e.products),
            _label(e.goal_type),
            _number(e.value_amount),
            e.value_unit or "",
            e.achieved_on.isoformat(),
            _label(e.consent_level),
            e.proof_point,
            e.usage_count,
            str(e.id),
        )
        writer.writerow([spreadsheet_cell(v) for v in row])
    return out.getvalue()


def export_markdown(entries: list[RepositoryItem]) -> str:
    """Return entries as copy-ready markdown, one section per win."""
    parts = [f"# Value repository — {len(entries)} win{'s' * (len(entries) != 1)}"]
    for e in entries:
        facts = {
            "Customer": e.customer_label,
            "Industry": e.industry,
            "Use case": e.use_case,
            "Products": ", ".join(e.products),
            "Goal type": _label(e.goal_type),
            "Value": value_text(e.value_amount, e.value_unit),
            "Achieved": e.achieved_on.isoformat(),
            "Consent": _label(e.consent_level),
        }
        lines = [f"- **{k}:** {_md(v)}" for k, v in facts.items() if v]
        parts.append("\n".join([f"## {_md(e.title)}", "", _md(e.proof_point), "", *lines]))
    return "\n\n".join(parts) + "\n"


def _number(value: Decimal | None) -> Decimal | str:
    # A Decimal (not text) so a negative amount is not mistaken for a formula and quoted.
    return "" if value is None else Decimal(format(value.normalize(), "f"))


def _md(text: str) -> str:
    return re.sub(r"([\\`*_\[\]<>|#])", r"\\\1", str(text)).replace("\n", " ")


def _label(value) -> str:
    text = str(getattr(value, "value", value)).replace("_", " ").capitalize()
    return " ".join(w.upper() if w.lower() in ("kpi", "roi") else w for w in text.split())
