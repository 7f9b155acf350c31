from datetime import timedelta

from core.outbox.models import Channel
from core.upsell.models import Measurement, ProgressStatus
from core.upsell.progress import send_alerts, update_progress
from tests import factories as f
from tests.core.upsell.scenarios import deliveries, set_current

NOW = f.NOW
S = ProgressStatus


def _step(session, plan, value, now=NOW):
    set_current(session, plan, {"Adoption": value})
    update_progress(session=session, now=now)
    sent = send_alerts(session=session, now=now)["alerts"]
    row = session.get(Measurement, plan.id)
    return row.progress_status, row.alerted_status, sent


def test_one_dm_per_fall_none_while_unchanged_and_again_after_recovery(session):
    owner = f.csm(session)
    cust = f.customer(session, owner=owner, name="<!channel> & Co")
    # Day 54 of 90: expected progress 0.6.
    metrics = [f.manual("Adoption", 0, 100), f.manual("Savings", 0, 10, 5)]
    plan = f.plan(session, cust, started_on=NOW.date() - timedelta(days=54), metrics=metrics)
    assert _step(session, plan, 60) == (S.ON_TRACK, None, 0)
    assert _step(session, plan, 40) == (S.AT_RISK, S.AT_RISK, 1)  # average 0.45
    assert _step(session, plan, 40) == (S.AT_RISK, S.AT_RISK, 0)
    assert _step(session, plan, 39) == (S.AT_RISK, S.AT_RISK, 0)
    assert _step(session, plan, 10) == (S.BEHIND, S.BEHIND, 1)  # worse: a second DM
    assert _step(session, plan, 10) == (S.BEHIND, S.BEHIND, 0)
    assert _step(session, plan, 40) == (S.AT_RISK, S.AT_RISK, 0)  # better: no DM
    assert _step(session, plan, 60) == (S.ON_TRACK, None, 0)  # recovered: cleared
    later = NOW + timedelta(days=1)  # expected 0.611 now
    assert _step(session, plan, 40, later) == (S.AT_RISK, S.AT_RISK, 1)
    dms = deliveries(session, Channel.SLACK_DM)
    assert sorted(d.idempotency_key for d in dms) == [
        f"plan:{plan.id}:alert:at_risk:2026-11-20",
        f"plan:{plan.id}:alert:at_risk:2026-11-21",
        f"plan:{plan.id}:alert:behind:2026-11-20",
    ]
    first = next(d for d in dms if d.idempotency_key.endswith("at_risk:2026-11-20"))
    assert first.payload["email"] == owner.email
    assert first.related_type == "measurement" and first.related_id == plan.id
    mrkdwn = str([b for b in first.payload["blocks"] if b["type"] != "header"])
    assert "&lt;!channel&gt; &amp; Co" in mrkdwn and "<!channel>" not in mrkdwn
    text = str(first.payload["blocks"])
    assert "Average progress 45% against 60% expected on day 54 of 90." in text
    assert "Adoption: 40 units (baseline 0, target 100), 40% of the way." in text


def test_no_dm_without_a_csm_until_someone_owns_the_customer(session):
    cust = f.customer(session, owner=None)
    plan = f.plan(
        session,
        cust,
        started_on=NOW.date() - timedelta(days=54),
        metrics=[f.manual("Adoption", 0, 100, 10)],
    )
    update_progress(session=session, now=NOW)
    assert send_alerts(session=session, now=NOW)["alerts"] == 0
    assert session.get(Measurement, plan.id).alerted_status is None
    owner = f.csm(session)
    cust.owner_csm_id = owner.id
    session.flush()
    assert send_alerts(session=session, now=NOW)["alerts"] == 1
    assert session.get(Measurement, plan.id).alerted_status == S.BEHIND


def test_plans_without_data_are_not_alerted(session):
    cust = f.customer(session, owner=f.csm(session))
    plan = f.plan(
        session,
        cust,
        started_on=NOW.date() - timedelta(days=80),
        metrics=[f.manual("Adoption", 0, 100)],
    )
    update_progress(session=session, now=NOW)
    assert session.get(Measurement, plan.id).progress_status is None
    assert send_alerts(session=session, now=NOW) == {"alerts": 0, "alerts_cleared": 0}
