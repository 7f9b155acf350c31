"""How often a plan's metric is measured, and when its data is too old to count.

Each criterion has a measurement frequency, stored on `measurement_metrics.frequency`: daily
(window 1 day), weekly (7 days) or monthly (30 days). The tracking pass stores the default for
criteria that have none: monthly for ROI and satisfaction metrics (savings and survey scores
move month to month) and for manually entered criteria (people record them at reviews, rarely
more often), weekly for usage, adoption and outcome metrics.

A metric's current value is the average of its observations in the window that ends now (weekly
= the last 7 days). A metric whose newest value is older than its window has **no recent data**:
an automatic metric then has no current value (its `current_at` still says when data last
arrived), a manual one keeps the value a person entered, and neither counts towards progress.
"""

from datetime import datetime, timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session

from core.customers.models import MetricKind
from core.upsell.models import MeasurementFrequency, MeasurementMode

Frequency = MeasurementFrequency
WINDOW_DAYS = {Frequency.DAILY: 1, Frequency.WEEKLY: 7, Frequency.MONTHLY: 30}
KIND_DEFAULTS = {
    MetricKind.USAGE: Frequency.WEEKLY,
    MetricKind.ADOPTION: Frequency.WEEKLY,
    MetricKind.OUTCOME: Frequency.WEEKLY,
    MetricKind.ROI: Frequency.MONTHLY,
    MetricKind.SATISFACTION: Frequency.MONTHLY,
}
MANUAL_DEFAULT = Frequency.MONTHLY
LABELS = {
    Frequency.DAILY: "daily (the latest day)",
    Frequency.WEEKLY: "weekly (7-day average)",
    Frequency.MONTHLY: "monthly (30-day average)",
}


def _default_case(alias: str) -> str:
    kinds = " ".join(f"WHEN '{k.value}' THEN '{f.value}'" for k, f in KIND_DEFAULTS.items())
    return (
        f"CASE WHEN {alias}.measurement = '{MeasurementMode.MANUAL.value}' "
        f"THEN '{MANUAL_DEFAULT.value}' ELSE CASE {alias}.type {kinds} "
        f"ELSE '{Frequency.WEEKLY.value}' END END"
    )


def frequency_sql(alias: str = "mm") -> str:
    """Return SQL for the frequency of criterion row `alias` (its default while unset)."""
    return f"coalesce({alias}.frequency, {_default_case(alias)})"


def window_sql(alias: str = "mm") -> str:
    """Return SQL for the length of the averaging window of criterion row `alias` (an interval)."""
    days = " ".join(f"WHEN '{f.value}' THEN {d}" for f, d in WINDOW_DAYS.items())
    return f"make_interval(days => CASE {frequency_sql(alias)} {days} END)"


ASSIGN_DEFAULTS = text(
    f"""
    UPDATE measurement_metrics mm SET frequency = {_default_case("mm")}, updated_at = now()
     WHERE mm.frequency IS NULL
    """
)


def default_for(kind: MetricKind | str, measurement: MeasurementMode | str) -> Frequency:
    """Return the default frequency of a criterion of this kind and measurement mode."""
    if MeasurementMode(measurement) == MeasurementMode.MANUAL:
        return MANUAL_DEFAULT
    return KIND_DEFAULTS.get(MetricKind(kind), Frequency.WEEKLY)


def resolve(frequency, kind, measurement) -> Frequency:
    """Return the criterion's stored frequency, else its default."""
    return Frequency(frequency) if frequency else default_for(kind, measurement)


def window(frequency: Frequency | str) -> timedelta:
    """Return the averaging window of a frequency."""
    return timedelta(days=WINDOW_DAYS[Frequency(frequency)])


def is_stale(*, current_at: datetime | None, frequency: Frequency | str, now: datetime) -> bool:
    """Say whether a value observed at `current_at` is older than its frequency allows."""
    return current_at is not None and current_at <= now - window(frequency)


def assign_defaults(*, session: Session) -> dict[str, int]:
    """Store the default frequency on every criterion that has none yet, in one statement."""
    return {"frequencies_set": session.execute(ASSIGN_DEFAULTS).rowcount}
