"""Set-up catalogue (admin): metrics, products, success templates and industry benchmarks."""

import streamlit as st

from components import data
from components.auth import require_user
from components.cards import page_header
from components.catalog_forms import benchmark_form, metric_form, product_form
from components.catalog_views import benchmark_table, metric_table, product_table, template_table
from components.format import SEGMENT_LABELS
from components.template_editor import template_editor
from core.base import Role, Segment
from core.customers.catalog import list_metrics
from core.upsell.catalog import list_benchmarks, list_products, list_templates

user = require_user(Role.ADMIN)
page_header(
    "Set-up catalogue",
    "What goals and upsell plans are measured with: the metrics usage feeds report, the "
    "products sold as expansions, what success looks like for each product, and industry "
    "benchmarks that keep targets realistic. Changes apply to plans drafted from now on.",
)
metrics = data.call(list_metrics)
products = data.call(list_products)
templates = data.call(list_templates)
benchmarks = data.call(list_benchmarks)

# Fixed tab labels: a label that changes (a count) sends the person back to the first tab.
tab_metrics, tab_products, tab_templates, tab_benchmarks = st.tabs(
    ["Metrics", "Products", "Success templates", "Benchmarks"]
)
with tab_metrics:
    st.caption(
        "Every usage observation, goal and plan criterion refers to one of these metrics by its "
        "key."
    )
    metric_table(metrics)
    st.subheader("Add or edit a metric")
    metric_form(metrics, user)

with tab_products:
    st.caption("Products sold as expansions; each may have a success template.")
    product_table(products)
    st.subheader("Add or edit a product")
    product_form(products, user)

with tab_templates:
    st.caption(
        "What every plan of a product measures, how far beyond the customer's baseline it aims, "
        "when it is reviewed and which adoption milestones it watches."
    )
    template_table(templates)
    st.subheader("Edit a template")
    template_editor(products, templates, metrics, user)

with tab_benchmarks:
    st.caption(
        "Typical values of a metric by industry and segment: plans cap targets at the top "
        "quartile and use the median where a customer has no baseline."
    )
    industries = sorted({b.industry for b in benchmarks}, key=str.lower)
    names = {m.key: m.name for m in metrics}
    left, middle, right = st.columns(3)
    industry = left.selectbox(
        "Industry", industries, index=None, placeholder="All industries", key="cat_bm_industry"
    )
    segment = middle.selectbox(
        "Segment",
        list(Segment),
        index=None,
        format_func=SEGMENT_LABELS.__getitem__,
        placeholder="All segments",
        key="cat_bm_segment",
    )
    metric = right.selectbox(
        "Metric",
        list(names),
        index=None,
        format_func=names.__getitem__,
        placeholder="All metrics",
        key="cat_bm_metric",
    )
    filtered = any(v is not None for v in (industry, segment, metric))
    shown = (
        data.call(list_benchmarks, industry=industry, segment=segment, metric_key=metric)
        if filtered
        else benchmarks
    )
    benchmark_table(shown, filtered=filtered)
    st.subheader("Add, edit or delete a benchmark")
    benchmark_form(benchmarks, metrics, user)
