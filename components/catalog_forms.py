"""Add-or-edit forms of the set-up catalogue: metrics, products and industry benchmarks.

Each form checks with the same core rules as the API and shows refusals inside the form, naming
the field by its label; what was typed stays in the widgets. Saves run in the submit button's
callback, so the tables above show the change in the same run.
"""

from collections.abc import Callable
from decimal import Decimal

import streamlit as st
from pydantic import ValidationError

from components import data
from components.format import SEGMENT_LABELS, escape_md, label
from components.forms import AMOUNT_BOUND, in_words
from core.accounts.schemas import UserSummary
from core.base import Direction, Segment
from core.customers.catalog import check_key, save_metric
from core.customers.catalog_schemas import METRIC_NAME_LENGTH, UNIT_LENGTH, MetricIn, MetricOut
from core.customers.models import MetricKind
from core.errors import DomainError, Invalid
from core.schemas import TEXT_LENGTH
from core.upsell.catalog import check_code, delete_benchmark, save_benchmark, save_product
from core.upsell.catalog_schemas import (
    CODE_LENGTH,
    FAMILY_LENGTH,
    INDUSTRY_LENGTH,
    PRODUCT_NAME_LENGTH,
    BenchmarkIn,
    BenchmarkOut,
    ProductIn,
    ProductOut,
)

NEW = ""  # the "add a new one" choice of a picker
state = st.session_state

METRIC_LABELS = {
    "key": "Key",
    "name": "Name",
    "unit": "Unit",
    "kind": "Kind",
    "direction": "Better when",
    "isMoney": "Values are money",
    "description": "Description",
}
PRODUCT_LABELS = {"code": "Code", "name": "Name", "family": "Family", "listPrice": "List price"}
BENCHMARK_LABELS = {
    "industry": "Industry",
    "segment": "Segment",
    "metricKey": "Metric",
    "median": "Median",
    "topQuartile": "Top quartile",
}


def _problems(run: Callable[[], None], labels: dict[str, str]) -> list[str]:
    """Run `run`; return its refusals named by the form's labels (none when it went through)."""
    try:
        run()
    except (ValidationError, DomainError) as problem:
        return in_words(problem, labels)
    return []


def _messages(prefix: str) -> None:
    """Show the form's refusals (inside the form) and its last success."""
    for message in state.pop(f"{prefix}_errors", []):
        st.error(escape_md(message), icon=":material/error:")
    if flash := state.pop(f"{prefix}_flash", None):
        st.success(escape_md(flash), icon=":material/check_circle:")


def _amount(value: float | None) -> Decimal | None:
    return None if value is None else Decimal(str(round(value, 4)))


# Metrics --------------------------------------------------------------------------------------

M = "cat_metric"


def _load_metric(metrics: dict[str, MetricOut]) -> None:
    m = metrics.get(state[f"{M}_pick"])
    state[f"{M}_key"] = m.key if m else ""
    state[f"{M}_name"] = m.name if m else ""
    state[f"{M}_unit"] = m.unit if m else ""
    state[f"{M}_kind"] = m.kind if m else MetricKind.USAGE
    state[f"{M}_direction"] = m.direction if m else Direction.HIGHER
    state[f"{M}_money"] = m.is_money if m else False
    state[f"{M}_description"] = (m.description or "") if m else ""


def _save_metric(user: UserSummary, metrics: dict[str, MetricOut]) -> None:
    picked = state[f"{M}_pick"]
    key = picked or state[f"{M}_key"].strip()
    saved: list = []

    def run() -> None:
        body = MetricIn(
            name=state[f"{M}_name"].strip(),
            unit=state[f"{M}_unit"].strip(),
            kind=state[f"{M}_kind"],
            direction=state[f"{M}_direction"],
            is_money=state[f"{M}_money"],
            description=state[f"{M}_description"].strip() or None,
        )
        saved.append(
            data.call(save_metric, key=key, body=body, actor=user.email, actor_user_id=user.id)
        )

    problems = [] if picked else _problems(lambda: check_key(key), METRIC_LABELS)
    problems = problems or _problems(run, METRIC_LABELS)
    if problems:
        state[f"{M}_errors"] = [f"Not saved. {p}" for p in problems]
        return
    metric, created = saved[0]
    state[f"{M}_flash"] = f"{'Added' if created else 'Saved'} the metric {metric.name}."
    state[f"{M}_pick"] = metric.key
    _load_metric({**metrics, metric.key: metric})


def metric_form(metrics: list[MetricOut], user: UserSummary) -> None:
    """Pick a metric to edit (or a new one) and save it."""
    by_key = {m.key: m for m in metrics}
    if f"{M}_name" not in state or state.get(f"{M}_pick", NEW) not in {NEW, *by_key}:
        state[f"{M}_pick"] = NEW
        _load_metric(by_key)
    st.selectbox(
        "Add or edit",
        [NEW, *by_key],
        format_func=lambda k: by_key[k].name if k else "A new metric",
        key=f"{M}_pick",
        on_change=_load_metric,
        args=(by_key,),
    )
    picked = by_key.get(state[f"{M}_pick"])
    with st.form(f"{M}_form", border=True):
        left, right = st.columns(2)
        left.text_input(
            "Key",
            key=f"{M}_key",
            max_chars=64,
            disabled=picked is not None,
            help="What usage feeds, goals and the API call it: a lowercase letter, then lowercase "
            "letters, digits or underscores (e.g. weekly_active_users). It cannot change later.",
        )
        right.text_input("Name", key=f"{M}_name", max_chars=METRIC_NAME_LENGTH)
        left.text_input(
            "Unit",
            key=f"{M}_unit",
            max_chars=UNIT_LENGTH,
            help="users, %, hours, runs/day, USD, score … ('met' for done or not)",
        )
        right.selectbox("Kind", list(MetricKind), format_func=label, key=f"{M}_kind")
        left.selectbox("Better when", list(Direction), format_func=label, key=f"{M}_direction")
        right.checkbox(
            "Values are money",
            key=f"{M}_money",
            help="Savings or revenue: ROI realized adds them up.",
        )
        st.text_area("Description", key=f"{M}_description", max_chars=TEXT_LENGTH, height=80)
        if picked is not None and picked.used_by:
            st.caption(
                f"Used by {', '.join(picked.used_by)}: its unit and which way is better are "
                "fixed, because they say what those stored numbers mean. Add a new metric to "
                "measure it differently."
            )
        st.form_submit_button(
            "Save metric",
            type="primary",
            key=f"{M}_save",
            on_click=_save_metric,
            args=(user, by_key),
        )
        _messages(M)


# Products -------------------------------------------------------------------------------------

P = "cat_product"


def _load_product(products: dict[str, ProductOut]) -> None:
    p = products.get(state[f"{P}_pick"])
    state[f"{P}_code"] = p.code if p else ""
    state[f"{P}_name"] = p.name if p else ""
    state[f"{P}_family"] = (p.family or "") if p else ""
    state[f"{P}_price"] = float(p.list_price) if p and p.list_price is not None else None


def _save_product(user: UserSummary, products: dict[str, ProductOut]) -> None:
    picked = state[f"{P}_pick"]
    code = picked or state[f"{P}_code"].strip()
    saved: list = []

    def run() -> None:
        body = ProductIn(
            name=state[f"{P}_name"].strip(),
            family=state[f"{P}_family"].strip() or None,
            list_price=_amount(state[f"{P}_price"]),
        )
        saved.append(
            data.call(save_product, code=code, body=body, actor=user.email, actor_user_id=user.id)
        )

    problems = [] if picked else _problems(lambda: check_code(code), PRODUCT_LABELS)
    problems = problems or _problems(run, PRODUCT_LABELS)
    if problems:
        state[f"{P}_errors"] = [f"Not saved. {p}" for p in problems]
        return
    product, created = saved[0]
    state[f"{P}_flash"] = f"{'Added' if created else 'Saved'} the product {product.name}."
    state[f"{P}_pick"] = product.code
    _load_product({**products, product.code: product})


def product_form(products: list[ProductOut], user: UserSummary) -> None:
    """Pick a product to edit (or a new one) and save it."""
    by_code = {p.code: p for p in products}
    if f"{P}_name" not in state or state.get(f"{P}_pick", NEW) not in {NEW, *by_code}:
        state[f"{P}_pick"] = NEW
        _load_product(by_code)
    st.selectbox(
        "Add or edit",
        [NEW, *by_code],
        format_func=lambda c: by_code[c].name if c else "A new product",
        key=f"{P}_pick",
        on_change=_load_product,
        args=(by_code,),
    )
    with st.form(f"{P}_form", border=True):
        left, right = st.columns(2)
        left.text_input(
            "Code",
            key=f"{P}_code",
            max_chars=CODE_LENGTH,
            disabled=bool(state[f"{P}_pick"]),
            help="As your CRM's opportunity line items carry it; it cannot change later.",
        )
        right.text_input("Name", key=f"{P}_name", max_chars=PRODUCT_NAME_LENGTH)
        left.text_input("Family (optional)", key=f"{P}_family", max_chars=FAMILY_LENGTH)
        right.number_input(
            "List price per year ($, optional)",
            key=f"{P}_price",
            min_value=0.0,
            max_value=AMOUNT_BOUND,
            step=1000.0,
            format="%.2f",
        )
        st.form_submit_button(
            "Save product",
            type="primary",
            key=f"{P}_save",
            on_click=_save_product,
            args=(user, by_code),
        )
        _messages(P)


# Industry benchmarks --------------------------------------------------------------------------

B = "cat_benchmark"


def _benchmark_name(b: BenchmarkOut) -> str:
    return f"{b.industry} · {SEGMENT_LABELS[b.segment]} · {b.metric_name}"


def _load_benchmark(benchmarks: dict[str, BenchmarkOut]) -> None:
    b = benchmarks.get(state[f"{B}_pick"])
    state[f"{B}_industry"] = b.industry if b else ""
    state[f"{B}_segment"] = b.segment if b else Segment.MID_MARKET
    state[f"{B}_metric"] = b.metric_key if b else None
    state[f"{B}_median"] = float(b.median) if b else None
    state[f"{B}_top"] = float(b.top_quartile) if b else None


def _save_benchmark(user: UserSummary) -> None:
    saved: list = []

    def run() -> None:
        if not state[f"{B}_metric"]:
            raise Invalid("metricKey: choose the metric the values are of.")
        body = BenchmarkIn(
            median=_amount(state[f"{B}_median"]), top_quartile=_amount(state[f"{B}_top"])
        )
        saved.append(
            data.call(
                save_benchmark,
                industry=state[f"{B}_industry"],
                segment=state[f"{B}_segment"],
                metric_key=state[f"{B}_metric"],
                body=body,
                actor=user.email,
                actor_user_id=user.id,
            )
        )

    if problems := _problems(run, BENCHMARK_LABELS):
        state[f"{B}_errors"] = [f"Not saved. {p}" for p in problems]
        return
    benchmark, created = saved[0]
    verb = "Added" if created else "Saved"
    state[f"{B}_flash"] = f"{verb} the benchmark {_benchmark_name(benchmark)}."
    state[f"{B}_pick"] = str(benchmark.id)


def _delete_benchmark(user: UserSummary, benchmark: BenchmarkOut) -> None:
    def run() -> None:
        data.call(
            delete_benchmark,
            industry=benchmark.industry,
            segment=benchmark.segment,
            metric_key=benchmark.metric_key,
            actor=user.email,
            actor_user_id=user.id,
        )

    if problems := _problems(run, BENCHMARK_LABELS):
        state[f"{B}_errors"] = problems
        return
    state[f"{B}_flash"] = f"Deleted the benchmark {_benchmark_name(benchmark)}."
    state[f"{B}_pick"] = NEW
    _load_benchmark({})


def benchmark_form(
    benchmarks: list[BenchmarkOut], metrics: list[MetricOut], user: UserSummary
) -> None:
    """Pick a benchmark to edit or delete (or a new one) and save it."""
    by_id = {str(b.id): b for b in benchmarks}
    names = {m.key: m.name for m in metrics}
    if f"{B}_industry" not in state or state.get(f"{B}_pick", NEW) not in {NEW, *by_id}:
        state[f"{B}_pick"] = NEW
        _load_benchmark(by_id)
    if not metrics:
        st.caption("Benchmarks are values of a metric: add a metric on the Metrics tab first.")
        return
    st.selectbox(
        "Add, edit or delete",
        [NEW, *by_id],
        format_func=lambda i: _benchmark_name(by_id[i]) if i else "A new benchmark",
        key=f"{B}_pick",
        on_change=_load_benchmark,
        args=(by_id,),
    )
    picked = by_id.get(state[f"{B}_pick"])
    with st.form(f"{B}_form", border=True):
        left, middle, right = st.columns(3)
        left.text_input(
            "Industry",
            key=f"{B}_industry",
            max_chars=INDUSTRY_LENGTH,
            help="As customers' industry reads (Healthcare, Fintech …); case does not matter.",
        )
        middle.selectbox(
            "Segment", list(Segment), format_func=SEGMENT_LABELS.__getitem__, key=f"{B}_segment"
        )
        right.selectbox(
            "Metric",
            list(names),
            format_func=names.__getitem__,
            key=f"{B}_metric",
            placeholder="Choose a metric",
        )
        left.number_input("Median", key=f"{B}_median", step=0.1, format="%.2f")
        middle.number_input(
            "Top quartile",
            key=f"{B}_top",
            step=0.1,
            format="%.2f",
            help="Where the best quarter of these customers starts: above the median when "
            "higher is better, below it when lower is better. Plans cap targets here.",
        )
        if picked is not None:
            st.caption(
                "Changing the industry, segment or metric saves another benchmark; delete this "
                "one if it no longer holds."
            )
        st.form_submit_button(
            "Save benchmark",
            type="primary",
            key=f"{B}_save",
            on_click=_save_benchmark,
            args=(user,),
        )
        _messages(B)
    if picked is not None:
        st.button(
            "Delete this benchmark",
            key=f"{B}_delete",
            icon=":material/delete:",
            on_click=_delete_benchmark,
            args=(user, picked),
        )
