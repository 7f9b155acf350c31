"""GET /api/upsell/{id}/progress carries frequency, recency, milestones and ROI realized."""

from datetime import UTC, datetime, timedelta

from core.upsell import milestones
from core.upsell.models import Upsell
from core.upsell.progress import update_progress
from tests import factories as f


def test_progress_has_the_tracking_fields_in_camel_case(client, make_key, session):
    now = datetime.now(UTC)  # the API judges recency against the clock
    today = now.date()
    cust = f.customer(session, owner=f.csm(session))
    plan = f.plan(
        session,
        cust,
        started_on=today - timedelta(days=40),
        metrics=[{**f.auto("Active users", "api_tr_users", 100, 200), "unit": "users"}],
    )
    f.observe_days(session, cust, "api_tr_users", today - timedelta(days=40), today, 130)
    update_progress(session=session, now=now)
    milestones.track(session=session, now=now)
    ref = session.get(Upsell, plan.upsell_id).opportunity_id

    res = client.get(f"/api/upsell/{ref}/progress", headers=make_key("sales"))
    assert res.status_code == 200, res.text
    progress = res.json()["progress"]
    [metric] = progress["metrics"]
    assert metric["frequency"] == "weekly" and metric["noRecentData"] is False
    assert metric["current"] == 130
    first, second = progress["milestones"]
    assert first == {
        "name": "Active users reaches 125 users",
        "criterion": "Active users",
        "threshold": 125,
        "unit": "users",
        "dueDay": 30,
        "dueOn": (today - timedelta(days=10)).isoformat(),
        "status": "completed",
        "reachedOn": (today - timedelta(days=40)).isoformat(),
    }
    assert (second["threshold"], second["status"], second["reachedOn"]) == (150, "upcoming", None)
    roi = progress["roiRealized"]
    assert roi["multiple"] is None and roi["realized"] is None and roi["arrIncrease"] == 24000
    assert roi["text"] == "No savings or revenue criterion in this plan, so no ROI multiple."
