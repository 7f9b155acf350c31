"""The set-up catalogue in plain words: tables of metrics, products, templates and benchmarks."""

from decimal import Decimal

import pandas as pd
import streamlit as st

from components.cards import empty_state
from components.format import SEGMENT_LABELS, label, when
from core.base import Direction, Segment
from core.customers.catalog_schemas import MetricOut
from core.formatting import money, number
from core.upsell.catalog_schemas import (
    BenchmarkOut,
    CriterionOut,
    ProductOut,
    SuccessTemplateOut,
    TemplateMilestoneOut,
)
from core.upsell.models import MeasurementMode
from core.upsell.target_rules import DEFAULT_UPLIFT, MET_UNIT

NOTHING_YET = "Nothing yet"


def percent(share: Decimal | float) -> str:
    """Return a share as a percentage: 0.15 → '15%', 0.125 → '12.5%'."""
    return f"{float(share) * 100:.1f}".removesuffix(".0") + "%"


def _signed(share, direction: Direction) -> str:
    return ("+" if direction == Direction.HIGHER else "−") + percent(share)


def _side(direction: Direction) -> str:
    return "over baseline" if direction == Direction.HIGHER else "under baseline"


def uplift_words(c: CriterionOut) -> str:
    """Say how far a criterion's target lies from the baseline: '+15% over baseline'."""
    if c.unit == MET_UNIT:
        return "Met or not (target: done)"
    if c.measurement == MeasurementMode.MANUAL:
        return f"Entered by hand, target {number(c.target, c.unit)}"
    direction = Direction(c.direction)
    if c.uplift is not None:
        return f"{_signed(c.uplift, direction)} {_side(direction)}"
    given = c.uplift_by_segment or {}
    parts = [
        f"{SEGMENT_LABELS[s]} {_signed(given[s], direction)}"
        if s in given
        else f"{SEGMENT_LABELS[s]} {_signed(DEFAULT_UPLIFT[s], direction)} (default)"
        for s in Segment
    ]
    return ", ".join(parts) + f" {_side(direction)}"


def level_words(c: CriterionOut) -> str:
    """Say what the criterion aims for without a baseline."""
    if c.unit == MET_UNIT or c.measurement == MeasurementMode.MANUAL:
        return "—"
    return "Benchmark or similar upsells" if c.target is None else number(c.target, c.unit)


def metric_table(metrics: list[MetricOut]) -> None:
    """Show the metrics catalogue, or say how to add the first metric."""
    if not metrics:
        empty_state(
            "No metrics yet — add the first one:",
            "give it a key (what usage feeds and goals send, e.g. weekly_active_users), a name, "
            "a unit and which way is better, in the form below.",
        )
        return
    rows = [
        {
            "Name": m.name,
            "Key (API and usage feeds)": m.key,
            "Unit": m.unit,
            "Kind": label(m.kind),
            "Better when": label(m.direction),
            "Money": "Yes" if m.is_money else "No",
            "Used by": ", ".join(m.used_by).capitalize() or NOTHING_YET,
            "Description": m.description or "",
        }
        for m in metrics
    ]
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")


def product_table(products: list[ProductOut]) -> None:
    """Show the products, or say how to add the first one."""
    if not products:
        empty_state(
            "No products yet — add the first one:",
            "its code as your CRM's line items carry it and its name, in the form below. The "
            "Salesforce sync also adds products it meets on closed deals.",
        )
        return
    rows = [
        {
            "Name": p.name,
            "Code": p.code,
            "Family": p.family or "",
            "List price (yearly)": money(p.list_price) if p.list_price is not None else "—",
            "Success template": "Yes" if p.has_template else "Not yet",
        }
        for p in products
    ]
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")


def days_words(days: list[int]) -> str:
    """Return checkpoint days as people say them: 'Days 30, 60 and 90'."""
    shown = [str(d) for d in days]
    if len(shown) == 1:
        return f"Day {shown[0]}"
    return f"Days {', '.join(shown[:-1])} and {shown[-1]}"


def template_table(templates: list[SuccessTemplateOut]) -> None:
    """Show one line per success template, or say how to write the first one."""
    if not templates:
        empty_state(
            "No success templates yet — write the first one:",
            "pick a product below, add its criteria (a metric and how far beyond the customer's "
            "baseline to aim, e.g. +15%) and its checkpoint days.",
        )
        return
    rows = [
        {
            "Product": t.product_name,
            "Criteria": ", ".join(c.name for c in t.criteria),
            "Checkpoints": days_words(t.checkpoint_days),
            "Milestones": len(t.milestones),
            "Last saved": when(t.updated_at) + (f" by {t.updated_by}" if t.updated_by else ""),
        }
        for t in templates
    ]
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")


def criteria_table(template: SuccessTemplateOut) -> None:
    """Show a template's criteria and milestones in plain words."""
    rows = [
        {
            "Criterion": c.name,
            "Measured": "From usage" if c.measurement == MeasurementMode.AUTOMATIC else "By hand",
            "Better when": label(c.direction),
            "Target": uplift_words(c),
            "Without a baseline": level_words(c),
        }
        for c in template.criteria
    ]
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    if template.milestones:
        by_key = {c.metric_key: c for c in template.criteria if c.metric_key}
        by_name = {c.name: c for c in template.criteria}
        st.dataframe(
            pd.DataFrame([_milestone_row(m, by_name, by_key) for m in template.milestones]),
            hide_index=True,
            width="stretch",
        )


def _milestone_row(m: TemplateMilestoneOut, by_name: dict, by_key: dict) -> dict:
    watched = by_name.get(m.criterion) if m.criterion else by_key.get(m.metric_key)
    name = watched.name if watched else "—"
    if m.threshold is not None:
        goal = f"reaches {number(m.threshold, watched.unit if watched else None)}"
    else:
        goal = f"{percent(m.share)} of the way to target"
    return {
        "Milestone": m.name or f"{name} {goal}",
        "Watches": name,
        "Asks": goal,
        "Due": f"Day {m.due_day}",
    }


def benchmark_table(benchmarks: list[BenchmarkOut], *, filtered: bool) -> None:
    """Show industry benchmarks with values in their units, or say how to add the first."""
    if not benchmarks:
        if filtered:
            st.info("No benchmark matches these filters.", icon=":material/filter_alt_off:")
            return
        empty_state(
            "No industry benchmarks yet — add the first one:",
            "an industry as customers' industry reads (e.g. Healthcare), a segment, a metric, "
            "its median and its top quartile. Plans cap targets at the top quartile.",
        )
        return
    rows = [
        {
            "Industry": b.industry,
            "Segment": SEGMENT_LABELS[b.segment],
            "Metric": b.metric_name,
            "Median": number(b.median, b.unit, money=b.is_money),
            "Top quartile": number(b.top_quartile, b.unit, money=b.is_money),
            "Better when": label(b.direction),
        }
        for b in benchmarks
    ]
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
