"""The Upsell progress page's cached plan, forgotten after a write on the page.

A plan's detail (its usage series above all) is the page's costly read, so a rerun reuses it
for a minute; the list of plans stays live, as a decision changes where a plan is listed. It
reads the primary, not the replica: right after a person's own review, values or criteria the
plan must already show them.
"""

import uuid

import streamlit as st

from components import data
from core.upsell.page_schemas import PlanDetail
from core.upsell.queries import plan_detail


@st.cache_data(ttl=60, show_spinner="Loading the plan…")
def plan(measurement_id: uuid.UUID) -> PlanDetail:
    """Return one plan with its series, curves, checkpoints, reviews and outcome."""
    return data.call(plan_detail, measurement_id=measurement_id)


def forget() -> None:
    """Drop the cached plans: a write changes the plan's figures, reviews or outcome."""
    plan.clear()
