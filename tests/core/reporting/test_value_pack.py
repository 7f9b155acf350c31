"""The value pack: true figures (direction, baseline, window), consent, renderings and its use."""

import re
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from core.audit.models import AuditEntry
from core.base import Consent, Direction, Role, Segment
from core.customers.models import TimelineEvent
from core.documentation.service import document
from core.errors import Forbidden, NotFound
from core.outbox.models import Channel, Delivery
from core.reporting import value_pack_pdf, value_pack_render
from core.reporting.value_pack import build_value_pack
from core.reporting.value_pack_schemas import PackAudience
from core.reporting.value_pack_service import pack_key, request_google_doc
from core.repository.models import RepositoryEntry
from core.upsell.models import MeasurementMetric, OutcomeStatus
from tests import factories as f

NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)


def _win(session, cust, *, name, key, direction, baseline, achieved, target, unit, **goal):
    f.metric(session, key, direction, unit, name=goal.pop("metric_name", None), **goal)
    won = f.goal(
        session,
        cust,
        name=name,
        metric_key=key,
        direction=direction,
        baseline=baseline,
        target=target,
        start=date(2026, 6, 1),
    )
    win = f.achievement(
        session,
        won,
        achieved_at=datetime(2026, 9, 1, 12, tzinfo=UTC),
        baseline_value=None if baseline is None else Decimal(str(baseline)),
        achieved_value=Decimal(str(achieved)),
        target_value=Decimal(str(target)),
    )
    document(session=session, achievement_id=win.id, now=NOW)
    return win


@pytest.fixture
def book(session):
    """Lakewater Logistics: a falling resolution time, a win without baseline, savings, a plan."""
    csm = f.csm(session, "Casey Rivera")
    cust = f.customer(
        session,
        name="Lakewater Logistics",
        owner=csm,
        industry="Logistics",
        segment=Segment.MID_MARKET,
        consent=Consent.INTERNAL_ONLY,
    )
    faster = _win(
        session,
        cust,
        name="Lakewater Logistics resolves tickets faster",
        key="resolution_hours",
        direction=Direction.LOWER,
        baseline=10,
        achieved=6,
        target=8,
        unit="hours",
        metric_name="Resolution time",
    )
    adoption = _win(
        session,
        cust,
        name="Reach 500 weekly users",
        key="weekly_users",
        direction=Direction.HIGHER,
        baseline=None,
        achieved=520,
        target=500,
        unit="users",
    )
    savings = _win(
        session,
        cust,
        name="Save on freight",
        key="cost_savings",
        direction=Direction.HIGHER,
        baseline=100_000,
        achieved=160_000,
        target=150_000,
        unit="USD",
        metric_name="Annualized cost savings",
        money=True,
    )
    plan = f.plan(
        session,
        cust,
        started_on=date(2026, 8, 1),
        metrics=[
            f.manual("Tickets deflected", 100, 200, 150),
            f.manual("Handle time", 12, 9, 10, direction=Direction.LOWER),
        ],
        name="Lakewater Logistics analytics expansion",
    )
    f.outcome(session, plan, OutcomeStatus.SUCCESS)
    return {
        "customer": cust,
        "csm": csm,
        "faster": faster,
        "adoption": adoption,
        "savings": savings,
    }


def _pack(session, book, viewer=Role.CSM, audience=PackAudience.INTERNAL):
    return build_value_pack(
        session=session,
        customer_id=book["customer"].id,
        viewer=viewer,
        audience=audience,
        now=NOW,
    )


def test_a_lower_is_better_win_improves_when_it_falls_measured_from_its_baseline(session, book):
    pack = _pack(session, book)
    faster = next(w for w in pack.wins if w.achievement_id == book["faster"].id)
    assert faster.lower_is_better
    assert (faster.baseline, faster.achieved) == (Decimal(10), Decimal(6))
    assert faster.improvement == pytest.approx(0.4)  # (10 - 6) / 10, not a 40% drop
    assert "cut resolution time from 10 hours to 6 hours" in faster.result
    assert (faster.started_on, faster.achieved_on) == (date(2026, 6, 1), date(2026, 9, 1))
    assert faster.entry_id is not None
    rows = value_pack_render.win_rows(pack)
    row = rows[1 + pack.wins.index(faster)]
    assert row[2:6] == ["10 hours", "6 hours", "8 hours", "40% better"]


def test_a_win_without_a_baseline_says_so_instead_of_inventing_one(session, book):
    pack = _pack(session, book)
    adoption = next(w for w in pack.wins if w.achievement_id == book["adoption"].id)
    assert adoption.baseline is None and adoption.improvement is None
    assert not adoption.has_before_after
    assert "No baseline was recorded" in adoption.baseline_note
    assert "to 520 users" in adoption.result  # never "raised … from 0"
    assert pack.summary.measured_wins == 2 and pack.summary.wins == 3
    assert "2 of 3 measured against a baseline; the rest have no before figure." in (
        pack.summary.headlines
    )
    assert "no baseline" in value_pack_render.markdown(pack)


def test_money_returns_are_the_change_from_the_baseline_and_plans_use_their_own_figures(
    session, book
):
    pack = _pack(session, book)
    savings = next(r for r in pack.roi if r.source == "Save on freight")
    assert "$100K → $160K, $60K better than the baseline" in savings.text
    upsell = pack.upsells[0]
    assert upsell.outcome == "Succeeded"
    deflected, handle = upsell.criteria
    assert deflected.improvement == pytest.approx(0.5)
    assert handle.improvement == pytest.approx(2 / 12, abs=1e-4)  # fell from 12 to 10: better
    assert "better than at the close" in handle.text
    assert pack.summary.successful_upsells == 1 and pack.summary.decided_upsells == 1


def test_a_plan_money_criterion_without_a_baseline_is_left_out_of_the_return(session, book):
    f.metric(session, "revenue", Direction.HIGHER, "USD", money=True)
    plan = f.plan(
        session,
        book["customer"],
        started_on=date(2026, 10, 1),
        metrics=[f.auto("New revenue", "revenue", None, 50_000)],
        name="Revenue add-on",
        arr=10_000,
    )
    f.observe_days(
        session, book["customer"], "revenue", date(2026, 10, 1), date(2026, 11, 29), 40_000
    )
    pack = _pack(session, book)
    line = next(r for r in pack.roi if r.source == "Revenue add-on")
    assert line.multiple is None
    assert line.text == "No return is stated: no money criterion has a baseline."
    assert any("New revenue: no baseline was recorded" in b for b in line.basis)
    assert plan.id in {u.measurement_id for u in pack.upsells}


def test_an_internal_pack_names_the_customer_for_cs_staff(session, book):
    pack = _pack(session, book)
    assert pack.named and pack.customer_label == "Lakewater Logistics"
    assert "Lakewater Logistics" in value_pack_render.markdown(pack)


@pytest.mark.parametrize(
    ("viewer", "audience"),
    [(Role.CSM, PackAudience.CUSTOMER), (Role.SALES, PackAudience.CUSTOMER)],
)
def test_a_shared_pack_of_a_customer_without_public_consent_never_names_them(
    session, book, viewer, audience
):
    pack = _pack(session, book, viewer=viewer, audience=audience)
    assert not pack.named
    assert pack.customer_label == "A mid-market logistics company"
    texts = [
        value_pack_render.markdown(pack),
        value_pack_render.html(pack),
        str(value_pack_render.doc_blocks(pack)),
        pack.model_dump_json(),
    ]
    for rendered in texts:
        assert "Lakewater" not in rendered
    assert "The customer resolves tickets faster" in texts[0]
    assert "the customer analytics expansion" in texts[0].lower()


def test_sales_and_marketing_may_not_have_the_internal_pack(session, book):
    for role in (Role.SALES, Role.MARKETING):
        with pytest.raises(Forbidden, match="^audience: "):
            _pack(session, book, viewer=role, audience=PackAudience.INTERNAL)


def test_a_shared_pack_names_a_customer_with_public_consent_unless_an_entry_is_stricter(
    session, book
):
    book["customer"].consent_level = Consent.LOGO
    for entry in session.scalars(select(RepositoryEntry)):
        entry.consent_level = Consent.LOGO  # as if the wins had been documented after the change
    session.flush()
    assert _pack(session, book, audience=PackAudience.CUSTOMER).customer_label == (
        "Lakewater Logistics"
    )
    entry = session.scalar(
        select(RepositoryEntry).where(RepositoryEntry.achievement_id == book["faster"].id)
    )
    entry.consent_level = Consent.ANONYMIZED
    session.flush()
    assert not _pack(session, book, audience=PackAudience.CUSTOMER).named


def test_an_unknown_customer_is_not_found(session):
    with pytest.raises(NotFound):
        build_value_pack(
            session=session, customer_id=uuid.uuid4(), viewer=Role.CSM, audience="internal"
        )


def test_people_text_is_escaped_in_markdown_and_html(session, book):
    # A goal's name is text a person typed.
    won = f.goal(
        session,
        book["customer"],
        name="<script>x</script> [click](https://evil.example)",
        metric_key="weekly_users",
        baseline=10,
        target=20,
    )
    win = f.achievement(
        session, won, baseline_value=Decimal(10), achieved_value=Decimal(25), target_value=20
    )
    document(session=session, achievement_id=win.id, now=NOW)
    pack = _pack(session, book)
    assert "<script>" not in value_pack_render.html(pack)
    assert "&lt;script&gt;" in value_pack_render.html(pack)
    assert "[click](https://evil.example)" not in value_pack_render.markdown(pack)


def test_the_html_draws_before_and_after_bars_for_measured_wins_only(session, book):
    page = value_pack_render.html(_pack(session, book))
    assert page.count("<svg") == 2  # resolution time and savings; the unmeasured win has none
    assert 'aria-label="Before and after: Resolution time"' in page


@pytest.mark.parametrize("font_dir", [value_pack_pdf.FONT_DIR, None])
def test_the_pdf_holds_every_page_with_or_without_a_unicode_font(session, book, font_dir):
    pack = _pack(session, book)
    for _ in range(12):  # enough wins to need more than one page
        pack.wins.append(pack.wins[0])
    data = value_pack_pdf.pdf(pack, font_dir=font_dir)
    assert data.startswith(b"%PDF-")
    assert data.rstrip().endswith(b"%%EOF")
    pages = len(re.findall(rb"/Type /Page\b", data))
    assert pages >= 2
    assert f"/Count {pages}".encode() in data


def test_latin1_folds_typographic_characters():
    assert value_pack_pdf.latin1("A — “b” × 1.6× ≤ 語") == 'A - "b" x 1.6x <= ?'


def test_a_google_doc_is_queued_once_per_customer_day_and_audience(session, book):
    csm = book["csm"]

    def ask(audience=PackAudience.INTERNAL, now=NOW):
        return request_google_doc(
            session=session,
            customer_id=book["customer"].id,
            viewer=Role.CSM,
            audience=audience,
            actor=csm.email,
            actor_user_id=csm.id,
            now=now,
        )

    first, again = ask(), ask()
    assert first.queued and not again.queued
    assert first.delivery_id == again.delivery_id
    assert first.entries_used == 3 and again.entries_used == 0
    key = pack_key(book["customer"].id, NOW.date(), "internal")
    rows = session.scalars(select(Delivery).where(Delivery.related_type == "value_pack")).all()
    assert [(r.channel, r.idempotency_key) for r in rows] == [(Channel.GOOGLE_DOC, key)]
    assert rows[0].payload["recordId"] == key
    assert rows[0].payload["title"].startswith("Value pack — Lakewater Logistics")
    shared = ask(PackAudience.CUSTOMER)
    assert shared.queued and shared.delivery_id != first.delivery_id
    assert ask(now=NOW + timedelta(days=1)).queued  # a new day is a new pack


def test_using_a_pack_records_each_win_s_use_by_whom_and_when(session, book):
    csm = book["csm"]
    before = session.scalar(select(func.max(RepositoryEntry.usage_count)))
    request_google_doc(
        session=session,
        customer_id=book["customer"].id,
        viewer=Role.CSM,
        audience=PackAudience.INTERNAL,
        actor=csm.email,
        actor_user_id=csm.id,
        purpose="renewal",
        now=NOW,
    )
    entries = session.scalars(
        select(RepositoryEntry).where(RepositoryEntry.customer_id == book["customer"].id)
    ).all()
    assert [e.usage_count for e in entries] == [before + 1] * 3
    assert all(e.last_used_at is not None for e in entries)
    uses = session.scalars(select(AuditEntry).where(AuditEntry.action == "repository.use")).all()
    assert {(u.actor_user_id, u.changes["purpose"]) for u in uses} == {(csm.id, "renewal")}
    pack_use = session.scalar(select(AuditEntry).where(AuditEntry.action == "value_pack.use"))
    assert pack_use.actor == csm.email and pack_use.occurred_at is not None
    assert pack_use.changes["via"] == "google_doc"
    assert sorted(pack_use.changes["entryIds"]) == sorted(str(e.id) for e in entries)
    assert (
        session.scalar(
            select(func.count()).where(
                AuditEntry.action == "value_pack.google_doc",
                AuditEntry.entity_id == str(book["customer"].id),
            )
        )
        == 1
    )
    lines = session.scalars(
        select(TimelineEvent.title).where(TimelineEvent.kind == "repository_use")
    ).all()
    assert len(lines) == 3 and all(line.startswith("Win used (renewal)") for line in lines)


def test_an_expansion_criterion_without_recent_data_shows_no_current_value(session, book):
    plan = f.plan(
        session,
        book["customer"],
        started_on=date(2026, 6, 1),
        metrics=[f.auto("Weekly users", "weekly_users", 100, 150)],
        name="Seats",
    )
    row = session.scalar(
        select(MeasurementMetric).where(MeasurementMetric.measurement_id == plan.id)
    )
    row.current, row.current_at = Decimal(140), NOW - timedelta(days=60)  # a weekly metric
    session.flush()
    line = next(u for u in _pack(session, book).upsells if u.measurement_id == plan.id)
    [criterion] = line.criteria
    assert criterion.current is None and criterion.improvement is None
    assert (
        criterion.text == "Weekly users: 100 units at the close; no recent data; target 150 units."
    )
    assert line.outcome == "In progress"
