"""What the demo says the app did before as_of reads as the app itself would have written it."""

from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from core.records.facts import gather, stored_facts
from core.records.render import markdown
from data import demo
from data.scenarios import BACKLOG_DAYS
from tests.data.helpers import AS_OF, one, rows

SAME_AS_GATHER = ("products", "result", "baseline", "achieved", "target", "rule", "confidence")


@pytest.fixture
def session(connection):
    demo.generate(connection, customers=40, seed=3, as_of=AS_OF)
    return Session(bind=connection, join_transaction_mode="create_savepoint")


def test_past_win_records_hold_the_facts_the_app_gathers(session):
    records = session.execute(
        text(
            "SELECT r.achievement_id, r.sections, r.markdown, array(SELECT f.comment "
            "FROM customer_feedback f WHERE f.customer_id = a.customer_id AND f.responded_at "
            "<= r.written_at AND f.score >= CASE f.kind WHEN 'nps' THEN 9 ELSE 4 END) "
            "FROM success_records r JOIN goal_achievements a ON a.id = r.achievement_id"
        )
    ).all()
    assert records
    for achievement_id, sections, written, praise in records:
        facts = gather(session=session, achievement_id=achievement_id)
        gathered = facts.as_dict()
        assert {k: sections[k] for k in SAME_AS_GATHER} == {k: gathered[k] for k in SAME_AS_GATHER}
        # the same factors (gather lists improved metrics in no particular order)
        assert sorted(sections["factors"]) == sorted(gathered["factors"])
        # Quotes: the customer's praise given by the time the record was written (gather, at the
        # time, saw nothing later), best first.
        assert len(sections["quotes"]) <= 3
        assert {q["text"] for q in sections["quotes"]} <= set(praise)
        # What is stored is what the app stores: the facts round-trip, the text renders from them.
        assert stored_facts(sections).as_dict() == sections
        assert written == markdown(stored_facts(sections))


def test_past_wins_were_documented_when_detected_before_the_backlog_weeks(session):
    conn = session.connection()
    cutoff = AS_OF - timedelta(days=BACKLOG_DAYS)
    assert one(
        conn,
        "SELECT bool_and(a.detected_at::date < :cutoff AND a.detected_at >= a.achieved_at "
        "AND r.written_at BETWEEN a.detected_at AND a.detected_at + interval '1 minute' "
        "AND a.status = 'verified' AND g.status = 'achieved') "
        "FROM goal_achievements a JOIN success_records r ON r.achievement_id = a.id "
        "JOIN goals g ON g.id = a.goal_id",
        cutoff=cutoff,
    )
    # a metric win needs three daily observations: it is detected two days after it was reached
    metric = rows(
        conn,
        "SELECT a.detected_at - a.achieved_at FROM goal_achievements a JOIN goals g "
        "ON g.id = a.goal_id WHERE g.metric_key IS NOT NULL",
    )
    assert metric and all(timedelta(days=2) <= gap < timedelta(days=4) for (gap,) in metric)
    confirmed = rows(
        conn,
        "SELECT a.verified_by_id = c.owner_csm_id, a.verification_note FROM goal_achievements a "
        "JOIN customers c ON c.id = a.customer_id WHERE a.method = 'manual'",
    )
    assert all(own and note for own, note in confirmed)


def test_older_plans_carry_the_prediction_they_held_when_decided(session):
    plans = rows(
        session.connection(),
        "SELECT m.predicted_success, (m.prediction_basis->>'history')::int, o.status "
        "FROM upsell_measurements m JOIN upsell_outcomes o ON o.measurement_id = m.id "
        "ORDER BY o.decided_at",
    )
    assert len(plans) >= 5
    first_chance, first_history, _ = plans[0]
    assert (float(first_chance), first_history) == (60.0, 0)  # nothing confirmed yet: the prior
    confirmed = 0
    for _, history, status in plans:
        assert history == confirmed  # every outcome confirmed before it, none after
        confirmed += status != "no_decision"
    assert len({chance for chance, _, _ in plans}) > 1


def test_nothing_the_app_did_is_dated_after_as_of(session):
    moments = {
        "upsell_measurements": "created_at",
        "checkpoints": "triggered_at",
        "upsell_reviews": "reviewed_at",
        "upsell_outcomes": "decided_at",
        "measurement_readings": "observed_at",
        "audit_log": "occurred_at",
        "health_factors": "updated_at",
        "goal_achievements": "detected_at",
        "success_records": "written_at",
        "timeline_events": "occurred_at",
        "customer_events": "occurred_on",
    }
    for table, column in moments.items():
        latest = one(session.connection(), f"SELECT max({column}) FROM {table}")
        assert latest is not None, table
        day = latest if not hasattr(latest, "date") else latest.date()
        assert day < AS_OF, table
