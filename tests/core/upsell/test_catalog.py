"""The upsell set-up catalogue: products, success templates (rules, versions) and benchmarks."""

from decimal import Decimal

import pytest
from sqlalchemy import select

from core.audit.models import AuditEntry
from core.base import Segment
from core.customers.catalog import save_metric
from core.customers.catalog_schemas import MetricIn
from core.errors import Conflict, Invalid, NotFound
from core.upsell.catalog import (
    delete_benchmark,
    get_template,
    list_benchmarks,
    list_products,
    save_benchmark,
    save_product,
    save_template,
)
from core.upsell.catalog_schemas import BenchmarkIn, ProductIn, SuccessTemplateIn
from core.upsell.models import IndustryBenchmark, MeasurementMetric, SuccessTemplate
from core.upsell.plans import create_plans
from tests import factories as f
from tests.core.upsell import scenarios

ACTOR = "ada@outcomes.example"
WAU = {"name": "Weekly active users", "metricKey": "weekly_active_users", "uplift": 0.2}
RESOLUTION = {
    "name": "Resolution time",
    "metricKey": "ticket_resolution_hours",
    "upliftBySegment": {"smb": 0.3, "mid_market": 0.25},
}
DASHBOARDS = {"name": "Executive dashboards", "unit": "dashboards", "target": 3}
SIGNED_OFF = {"name": "Rollout signed off", "unit": "met"}


def metric(session, key, unit, direction="higher_is_better", kind="usage", name=None):
    name = name or key.replace("_", " ").capitalize()
    body = MetricIn(name=name, unit=unit, kind=kind, direction=direction)
    save_metric(session=session, key=key, body=body, actor=ACTOR)


@pytest.fixture
def product(session):
    metric(session, "weekly_active_users", "users", name="Weekly active users")
    metric(session, "ticket_resolution_hours", "hours", "lower_is_better", "outcome")
    metric(session, "feature_adoption", "%", kind="adoption")
    save_product(
        session=session,
        code="insights",
        body=ProductIn(name="Insights", family="analytics"),
        actor=ACTOR,
    )
    return "insights"


def template(criteria=(WAU,), days=(30, 60, 90), milestones=(), version=None):
    return SuccessTemplateIn.model_validate(
        {
            "criteria": list(criteria),
            "checkpointDays": list(days),
            "milestones": list(milestones),
            "version": version,
        }
    )


def save(session, body, code="insights"):
    return save_template(session=session, product_code=code, body=body, actor=ACTOR)


def test_products_are_upserted_by_code_and_audited(session):
    made, created = save_product(
        session=session,
        code="AN-01",
        body=ProductIn(name="Analytics", listPrice=Decimal("24000")),
        actor=ACTOR,
    )
    assert created and (made.code, made.list_price, made.has_template) == ("AN-01", 24000, False)
    again, created = save_product(
        session=session, code="AN-01", body=ProductIn(name="Analytics Pro"), actor=ACTOR
    )
    assert not created and again.name == "Analytics Pro" and again.list_price == 24000
    assert [p.code for p in list_products(session=session)] == ["AN-01"]
    actions = session.scalars(select(AuditEntry.action).where(AuditEntry.entity_id == "AN-01"))
    assert sorted(actions) == ["product.created", "product.updated"]
    with pytest.raises(Invalid, match="^code: must be a single line"):
        save_product(session=session, code="A\nB", body=ProductIn(name="X"), actor=ACTOR)


def test_a_template_is_stored_in_the_shape_plans_are_drafted_from(session, product):
    saved, created = save(
        session,
        template(
            criteria=[WAU, RESOLUTION, DASHBOARDS, SIGNED_OFF],
            days=[90, 30, 60, 30],
            milestones=[
                {"metricKey": "weekly_active_users", "share": 0.5, "dueDay": 30},
                {"criterion": "Executive dashboards", "threshold": 2, "dueDay": 60},
            ],
        ),
    )
    assert created and saved.version == 1 and saved.checkpoint_days == [30, 60, 90]
    row = session.scalar(select(SuccessTemplate).where(SuccessTemplate.product_code == product))
    wau, resolution, dashboards, signed = row.metrics
    assert wau == {
        "name": "Weekly active users",
        "metricKey": "weekly_active_users",
        "type": "usage",
        "unit": "users",
        "direction": "higher_is_better",
        "measurement": "automatic",
        "target": None,
        "uplift": 0.2,
    }
    assert resolution["uplift"] == {"smb": 0.3, "mid_market": 0.25}
    assert resolution["direction"] == "lower_is_better" and resolution["unit"] == "hours"
    assert (dashboards["measurement"], dashboards["type"], dashboards["target"]) == (
        "manual",
        "outcome",
        3,
    )
    assert (signed["target"], "uplift" in signed) == (1, False)
    assert row.milestones == [
        {"metricKey": "weekly_active_users", "share": 0.5, "dueDay": 30},
        {"criterion": "Executive dashboards", "threshold": 2, "dueDay": 60},
    ]
    shown = get_template(session=session, product_code=product)
    assert shown.criteria[1].uplift_by_segment == {
        Segment.SMB: Decimal("0.3"),
        Segment.MID_MARKET: Decimal("0.25"),
    }
    assert list_products(session=session)[0].has_template


def test_plans_follow_a_template_and_benchmark_saved_here(session, product):
    save(session, template(criteria=[WAU]))
    save_benchmark(
        session=session,
        industry="Logistics",
        segment=Segment.MID_MARKET,
        metric_key="weekly_active_users",
        body=BenchmarkIn(median=Decimal(200), topQuartile=Decimal(230)),
        actor=ACTOR,
    )
    near = f.customer(session, industry="Logistics", segment=Segment.MID_MARKET)
    far = f.customer(session, industry="Retail", segment=Segment.MID_MARKET)
    for cust in (near, far):
        days = scenarios.days_before(f.CLOSE, 1, 5, 10)
        f.observe_at(session, cust, "weekly_active_users", {d: "200" for d in days})
        f.upsell(session, cust, [product])
    create_plans(session=session)
    session.expire_all()
    targets = {
        m.target_source: m.target
        for m in session.scalars(select(MeasurementMetric))
        if m.name == "Weekly active users"
    }
    assert targets == {"template_uplift": 240, "benchmark": 230}  # 200 × 1.2; capped at 230


@pytest.mark.parametrize(
    ("criteria", "milestones", "message"),
    [
        ([WAU | {"metricKey": "nope"}], [], r"^criteria\[0\]\.metricKey: unknown metric 'nope'"),
        ([WAU | {"unit": "people"}], [], r"^criteria\[0\]\.unit: must be the metric's own"),
        ([WAU, WAU], [], r"^criteria\[1\]\.name: criteria\[0\] is already called"),
        ([DASHBOARDS | {"target": None}], [], r"^criteria\[0\]\.target: is required"),
        ([DASHBOARDS | {"uplift": 0.2}], [], r"^criteria\[0\]\.uplift: a criterion measured by"),
        (
            [{"name": "X", "measurement": "automatic", "unit": "x"}],
            [],
            r"^criteria\[0\]\.metricKey",
        ),
        ([SIGNED_OFF | {"target": 3}], [], r"^criteria\[0\]\.target: a met-or-not"),
        ([RESOLUTION | {"upliftBySegment": {"smb": 1}}], [], r"upliftBySegment: a lower-is-bett"),
        ([WAU | {"upliftBySegment": {"smb": 0.1}}], [], r"upliftBySegment: give uplift"),
        (
            [{"name": "Adoption", "metricKey": "feature_adoption", "target": 120}],
            [],
            r"^criteria\[0\]\.target: must be between 0 and 100",
        ),
        ([WAU], [{"criterion": "Nope", "share": 0.5, "dueDay": 30}], r"^milestones\[0\]\.crit"),
        ([WAU], [{"metricKey": "feature_adoption", "share": 0.5, "dueDay": 30}], r"reads 'feat"),
        ([WAU], [{"metricKey": "weekly_active_users", "dueDay": 30}], r"\.threshold: give a"),
        ([WAU], [{"criterion": WAU["name"], "share": 0.5, "dueDay": 120}], r"\.dueDay: must be"),
    ],
)
def test_a_bad_template_is_refused_naming_the_field(
    session, product, criteria, milestones, message
):
    with pytest.raises(Invalid, match=message):
        save(session, template(criteria=criteria, milestones=milestones))
    assert session.scalar(select(SuccessTemplate)) is None


def test_the_input_model_bounds_days_shares_and_sizes():
    for bad in ({"checkpointDays": []}, {"checkpointDays": [0]}, {"checkpointDays": [366]}):
        with pytest.raises(ValueError, match="checkpointDays|checkpoint_days"):
            SuccessTemplateIn.model_validate({"criteria": [WAU], **bad})
    with pytest.raises(ValueError, match="uplift"):
        template(criteria=[WAU | {"uplift": 0}])
    with pytest.raises(ValueError, match="criteria"):
        template(criteria=[])


def test_a_stale_or_missing_version_is_a_conflict(session, product):
    first, _ = save(session, template())
    with pytest.raises(Conflict, match="^version: Insights already has a success template"):
        save(session, template(days=[30, 90]))
    second, created = save(session, template(days=[30, 90], version=first.version))
    assert not created and second.version == first.version + 1
    with pytest.raises(Conflict, match=r"^version: someone else saved .* now version 2"):
        save(session, template(days=[45], version=first.version))
    same, _ = save(session, template(days=[30, 90], version=second.version))
    assert same.version == second.version  # nothing changed: no new version, no audit
    actions = session.scalars(
        select(AuditEntry.action).where(AuditEntry.entity_type == "success_template")
    )
    assert sorted(actions) == ["template.created", "template.updated"]


def test_a_template_needs_a_known_product(session, product):
    with pytest.raises(NotFound, match="add the product first"):
        save(session, template(), code="unknown")
    with pytest.raises(NotFound, match="has no success template yet"):
        get_template(session=session, product_code=product)


def test_benchmarks_are_upserted_case_insensitively_listed_and_deleted(session, product):
    def put(industry, median, top, key="ticket_resolution_hours", segment=Segment.SMB):
        return save_benchmark(
            session=session,
            industry=industry,
            segment=segment,
            metric_key=key,
            body=BenchmarkIn(median=Decimal(median), topQuartile=Decimal(top)),
            actor=ACTOR,
        )

    made, created = put("Healthcare", 14, 8)  # lower is better: the top quartile is below
    assert created and made.metric_name == "Ticket resolution hours"
    updated, created = put("healthcare", 13, 8)
    assert not created and updated.id == made.id and updated.industry == "healthcare"
    assert session.scalar(select(IndustryBenchmark.median)) == 13
    with pytest.raises(Invalid, match=r"^topQuartile: must not be above the median \(13\)"):
        put("Healthcare", 13, 15)
    with pytest.raises(Invalid, match=r"^topQuartile: must not be below the median"):
        put("Healthcare", 50, 40, key="feature_adoption")
    with pytest.raises(Invalid, match=r"^topQuartile: must be between 0 and 100"):
        put("Healthcare", 50, 140, key="feature_adoption")
    with pytest.raises(Invalid, match=r"^metricKey: unknown metric 'nope'"):
        put("Healthcare", 1, 2, key="nope")
    put("Retail", 52, 66, key="feature_adoption", segment=Segment.ENTERPRISE)
    assert [b.industry for b in list_benchmarks(session=session)] == ["healthcare", "Retail"]
    assert [b.industry for b in list_benchmarks(session=session, industry="RETAIL")] == ["Retail"]
    assert list_benchmarks(session=session, segment=Segment.MID_MARKET) == []
    assert len(list_benchmarks(session=session, metric_key="feature_adoption")) == 1

    delete_benchmark(
        session=session,
        industry="HEALTHCARE",
        segment=Segment.SMB,
        metric_key="ticket_resolution_hours",
        actor=ACTOR,
    )
    with pytest.raises(NotFound, match="SMB customers in the industry 'Healthcare'"):
        delete_benchmark(
            session=session,
            industry="Healthcare",
            segment=Segment.SMB,
            metric_key="ticket_resolution_hours",
            actor=ACTOR,
        )
    actions = session.scalars(
        select(AuditEntry.action).where(AuditEntry.entity_type == "industry_benchmark")
    )
    assert sorted(actions) == [
        "benchmark.created",
        "benchmark.created",
        "benchmark.deleted",
        "benchmark.updated",
    ]
