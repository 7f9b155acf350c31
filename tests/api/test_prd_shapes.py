"""The PRD routes answer the PRD's GoalAchievement and UpsellSuccessMeasurement, field by field.

Each answer is walked against the PRD's field paths with their JSON types, on real data: a win
documented end to end (record, Slack, Doc, congratulations email delivered, a marketing flag) and
a measurement plan with checkpoints, values, a benchmark, a review and an outcome.
"""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import event, select

from components.navigation import PAGES
from core.base import Consent, Direction, Role
from core.documentation.service import document_pending
from core.drafts.models import Draft
from core.drafts.service import approve
from core.outbox.models import Channel, Delivery, DeliveryStatus
from core.settings import get_settings
from core.upsell import prd
from core.upsell.models import IndustryBenchmark, OutcomeStatus, Upsell
from core.upsell.progress import update_progress
from jobs.outbox import SENT_HANDLERS
from tests import factories as f

NUMBER, TEXT, DAY, MOMENT, NULL = (int, float), str, "day", "moment", type(None)
DOC_ID = "1AbCdEfGhIjK_lmnop-42"
TODAY = datetime.now(UTC).date()
QUOTE = "Outcomes made our weekly reviews twice as fast for every single team."

GOAL_ACHIEVEMENT = {
    "goal": {
        "id": TEXT,
        "name": TEXT,
        "type": TEXT,
        "originalTarget": NUMBER,
        "achievedResult": NUMBER,
    },
    "achievement": {
        "achievedAt": MOMENT,
        "timeToAchieve": int,
        "evidence": dict,
        "contributingFactors": [TEXT],
        "customerQuotes": [{"text": TEXT, "by": TEXT}],
    },
    "documentation": {
        "summaryDocId": TEXT,
        "celebrationSent": bool,
        "customerNotified": bool,
        "marketingFlagged": bool,
    },
    "marketingPotential": {
        "caseStudyCandidate": bool,
        "testimonialCandidate": bool,
        "referenceCandidate": bool,
        "score": int,
    },
    "createdAt": MOMENT,
}
UPSELL_SUCCESS_MEASUREMENT = {
    "upsellDetails": {
        "opportunityId": TEXT,
        "type": TEXT,
        "arrIncrease": NUMBER,
        "closeDate": DAY,
        "products": [TEXT],
        "salesRep": TEXT,
    },
    "successCriteria": {
        "metrics": [{"name": TEXT, "target": NUMBER, "unit": TEXT}],
        "goals": [TEXT],
        "benchmarks": [{"metricKey": TEXT, "median": NUMBER, "topQuartile": NUMBER}],
    },
    "measurementPlan": {
        "trackingStart": DAY,
        "checkpoints": [
            {
                "day": int,
                "type": TEXT,
                "status": TEXT,
                "scheduledDate": DAY,
                "completedDate": (DAY, NULL),
            }
        ],
        "dashboardUrl": TEXT,
    },
    "progress": {
        "currentStatus": TEXT,
        "metricsProgress": [{"name": TEXT, "current": NUMBER, "progress": NUMBER}],
        "lastUpdated": MOMENT,
    },
    "reviews": [{"assessment": TEXT, "findings": TEXT, "reviewedAt": MOMENT}],
    "outcome": {
        "status": TEXT,
        "evidence": [TEXT],
        "lessonsLearned": [TEXT],
        "documentedAt": MOMENT,
    },
    "createdAt": MOMENT,
}


def _fits(kind, value) -> bool:
    if isinstance(kind, tuple) and not all(isinstance(k, type) for k in kind):
        return any(_fits(k, value) for k in kind)
    if kind == DAY:
        return isinstance(value, str) and bool(date.fromisoformat(value))
    if kind == MOMENT:
        return isinstance(value, str) and datetime.fromisoformat(value).tzinfo is not None
    if value is True or value is False:
        return kind is bool or kind == (bool,)
    return isinstance(value, kind)


def problems(shape, value, path="") -> list[str]:
    """Return each PRD field path that is missing or of another JSON type."""
    if isinstance(shape, dict):
        if not isinstance(value, dict):
            return [f"{path or 'answer'}: not an object"]
        found = []
        for name, inner in shape.items():
            where = f"{path}.{name}" if path else name
            if name not in value:
                found.append(f"{where}: missing")
            else:
                found += problems(inner, value[name], where)
        return found
    if isinstance(shape, list):
        if not isinstance(value, list) or not value:
            return [f"{path}: not a list with items"]
        return [p for i, item in enumerate(value) for p in problems(shape[0], item, f"{path}[{i}]")]
    return [] if _fits(shape, value) else [f"{path}: {value!r} is not {shape}"]


def deliver(session) -> None:
    """Deliver every waiting outbox row as the outbox job would, with its "on sent" handler."""
    for row in session.scalars(select(Delivery).where(Delivery.status != DeliveryStatus.SENT)):
        ref = {
            Channel.GOOGLE_DOC: f"https://docs.google.com/document/d/{DOC_ID}/edit",
            Channel.GMAIL: "msg-1",
        }.get(row.channel, "1700000000.000100")
        row.status, row.external_ref, row.sent_at = DeliveryStatus.SENT, ref, datetime.now(UTC)
        handler = SENT_HANDLERS.get((row.related_type, row.channel))
        if handler is not None:
            handler(session, row.related_id, ref)
    session.flush()


@pytest.fixture
def team(session):
    return {
        role: f.user(session, role, role.value.title(), email=f"{role.value}@outcomes.example")
        for role in Role
    }


def _metric_goal(session, cust, name="Grow weekly active users"):
    f.metric(session, "weekly_active_users", Direction.HIGHER, "users")
    return f.goal(
        session,
        cust,
        name=name,
        metric_key="weekly_active_users",
        baseline=40,
        target=55,
        start=TODAY - timedelta(days=34),
    )


@pytest.fixture
def documented(client, make_key, session, team):
    """A win confirmed over the API, its announcements delivered and its email sent."""
    cust = f.customer(
        session,
        name="Acme Health",
        owner=team[Role.CSM],
        consent=Consent.FULL_PUBLIC,
        contacts=("Dana Ortiz",),
    )
    f.feedback(session, cust, score=10, comment=QUOTE, respondent_name="Dana Ortiz")
    goal = _metric_goal(session, cust)
    f.observe(session, cust, "weekly_active_users", [40, 48, 58, 60], end=datetime.now(UTC))
    body = {
        "verifiedBy": "csm@outcomes.example",
        "note": "Seen on the QBR call",
        "evidence": {"source": "QBR deck", "slide": 4},
    }
    confirmed = client.post(
        f"/api/goals/{goal.id}/achieve", json={**body, "achievedValue": 60}, headers=make_key("csm")
    )
    assert confirmed.status_code == 201, confirmed.text
    win = confirmed.json()
    draft = session.scalar(select(Draft).where(Draft.related_id == win["id"]))
    actor = f.actor(team[Role.CSM])
    approve(session=session, draft_id=draft.id, expected_version=draft.version, actor=actor)
    deliver(session)
    return {"customer": cust, "goal": goal, "confirmed": win}


def days_to(win: dict, goal) -> int:
    """Days from the goal's start to the UTC day of the win (34 unless a day turned meanwhile)."""
    achieved = datetime.fromisoformat(win["achievement"]["achievedAt"]).astimezone(UTC).date()
    return (achieved - goal.start_date).days


def flag(client, make_key, goal, kind="Case study"):
    body = {"flaggedBy": "marketing@outcomes.example", "candidateType": kind}
    return client.post(
        f"/api/goals/{goal.id}/marketing-flag", json=body, headers=make_key("marketing")
    )


def test_confirming_a_win_answers_a_goal_achievement(documented):
    win = documented["confirmed"]
    missing = problems(GOAL_ACHIEVEMENT, win)
    # Only what happens after the answer is missing: the Doc, Slack and email are still queued.
    assert missing == ["documentation.summaryDocId: None is not <class 'str'>"]
    assert win["goal"]["originalTarget"] == 55 and win["goal"]["achievedResult"] == 60
    assert win["achievement"]["timeToAchieve"] == days_to(win, documented["goal"])
    assert win["goalId"] == win["goal"]["id"]
    assert win["documentation"]["celebrationSent"] is False
    assert win["achievement"]["customerQuotes"][0]["text"] == QUOTE


def test_achievements_and_a_customers_goals_answer_goal_achievements(client, make_key, documented):
    assert flag(client, make_key, documented["goal"]).status_code == 201
    headers = make_key("leader")
    page = client.get("/api/goals/achievements", headers=headers).json()
    cust = documented["customer"]
    goals = client.get(f"/api/goals/customer/{cust.id}", headers=headers).json()
    for win in (page["items"][0], goals["achievements"][0]):
        assert problems(GOAL_ACHIEVEMENT, win) == []
        docs = win["documentation"]
        assert docs["summaryDocId"] == DOC_ID and docs["summaryDocUrl"].endswith("/edit")
        assert docs["celebrationSent"] and docs["customerNotified"] and docs["marketingFlagged"]
        assert docs["marketingFlags"] == ["case_study"]
        assert win["achievement"]["timeToAchieve"] == days_to(win, documented["goal"]) >= 34
        assert win["achievement"]["contributingFactors"]
        assert win["achievement"]["evidence"]["source"] == "QBR deck"
        assert win["marketingPotential"]["score"] == win["marketingScore"]
        assert win["goalName"] == win["goal"]["name"]  # the flat fields stay


def test_flagging_answers_the_flag_on_a_goal_achievement(client, make_key, documented):
    response = flag(client, make_key, documented["goal"], kind="reference customer")
    assert response.status_code == 201, response.text
    body = response.json()
    assert problems(GOAL_ACHIEVEMENT, body) == []
    assert body["candidateType"] == "reference" and body["status"] == "flagged"
    assert body["documentation"]["marketingFlags"] == ["reference"]
    assert body["createdAt"] == documented["confirmed"]["createdAt"]
    assert body["flaggedAt"] >= body["createdAt"] and body["id"] != documented["confirmed"]["id"]


def test_a_hidden_customer_keeps_its_words_and_record_to_itself(client, make_key, session, team):
    cust = f.customer(session, name="Lakewater", owner=team[Role.CSM], industry="Fintech")
    f.feedback(session, cust, score=10, comment=QUOTE + " Lakewater loves it.")
    goal = _metric_goal(session, cust, name="Lakewater grows weekly active users")
    f.achievement(session, goal, achieved_value=Decimal(60), target_value=Decimal(55))
    document_pending(session=session)
    deliver(session)
    page = client.get("/api/goals/achievements", headers=make_key("marketing")).json()
    [win] = page["items"]
    assert win["customerName"] == "A mid-market fintech company"
    assert win["achievement"]["customerQuotes"] == []  # internal only: no quotes
    assert win["documentation"]["summaryDocId"] is None  # the record as written names it
    assert win["documentation"]["celebrationSent"] is True
    assert "Lakewater" not in str(win["goal"]) + str(win["achievement"])


def test_a_page_of_fifty_costs_the_same_queries_as_a_page_of_five(
    client, make_key, session, connection, team
):
    cust = f.customer(session, owner=team[Role.CSM], consent=Consent.FULL_PUBLIC)
    f.feedback(session, cust, score=10, comment=QUOTE)
    f.metric(session, "weekly_active_users", Direction.HIGHER, "users")
    for i in range(50):
        goal = f.goal(session, cust, name=f"Goal {i}", metric_key="weekly_active_users", target=5)
        at = datetime(2026, 9, 1, tzinfo=UTC) + timedelta(hours=i)
        f.achievement(session, goal, achieved_at=at, achieved_value=Decimal(6), target_value=5)
    document_pending(session=session)
    deliver(session)
    headers = make_key("leader")
    statements = []
    event.listen(connection, "before_cursor_execute", lambda *a, **k: statements.append(a[2]))
    client.get("/api/me", headers=headers)  # the key's first use is noted, later ones not yet
    counts = {}
    for limit in (5, 50):
        statements.clear()
        page = client.get("/api/goals/achievements", params={"limit": limit}, headers=headers)
        assert len(page.json()["items"]) == limit
        assert all(problems(GOAL_ACHIEVEMENT, w) == [] for w in page.json()["items"])
        counts[limit] = len(statements)
    assert counts[50] == counts[5] <= 8


@pytest.fixture
def measured(client, make_key, session, team):
    """A plan with criteria, values, a benchmark, stated goals and three checkpoints."""
    cust = f.customer(session, owner=team[Role.CSM], industry="Logistics")
    started = TODAY - timedelta(days=40)
    metrics = [f.auto("Active users", "active_users", 10, 50), f.manual("Hours saved", 0, 20, 5)]
    plan = f.plan(session, cust, started_on=started, metrics=metrics)
    sold = session.get(Upsell, plan.upsell_id)
    sold.sales_rep_name = "Sam Seller"
    sold.stated_criteria = "Half the teams use dashboards weekly. Reports take a day less."
    session.add(
        IndustryBenchmark(
            industry="logistics",
            segment=cust.segment,
            metric_key="active_users",
            median=Decimal(40),
            top_quartile=Decimal(60),
        )
    )
    f.observe_days(session, cust, "active_users", started - timedelta(days=20), TODAY, 30)
    update_progress(session=session, now=datetime.now(UTC), measurement_ids=[plan.id])
    return {"customer": cust, "plan": plan, "upsell": sold, "headers": make_key("csm")}


def test_the_upsell_routes_answer_an_upsell_success_measurement(client, session, measured):
    ref, headers, plan = measured["upsell"].opportunity_id, measured["headers"], measured["plan"]
    values = {"values": {"Hours saved": 8}, "recordedBy": "csm@outcomes.example"}
    recorded = client.put(f"/api/upsell/{ref}/metrics", json=values, headers=headers)
    assert recorded.status_code == 200, recorded.text
    review = {
        "checkpointDay": 30,
        "assessment": "On track",
        "findings": "Dashboards caught on in two teams.",
        "nextSteps": "Train the third team.",
        "reviewedBy": "csm@outcomes.example",
    }
    reviewed = client.post(f"/api/upsell/{ref}/review", json=review, headers=headers)
    assert reviewed.status_code == 201, reviewed.text
    reviewed_on = datetime.fromisoformat(reviewed.json()["reviewedAt"]).astimezone(UTC).date()
    outcome = f.outcome(session, plan, OutcomeStatus.PARTIAL)
    outcome.proposed_reasons = ["Active users: 30 of 50 users (50% of the way)"]
    outcome.decided_at = datetime.now(UTC)
    session.flush()

    progress = client.get(f"/api/upsell/{ref}/progress", headers=headers)
    again = client.post(f"/api/upsell/{ref}/success-measurement", json={}, headers=headers)
    assert again.status_code == 200, again.text
    for body in (progress.json(), again.json()):
        assert problems(UPSELL_SUCCESS_MEASUREMENT, body) == []
        assert body["successCriteria"]["goals"] == [
            "Half the teams use dashboards weekly",
            "Reports take a day less",
        ]
        [bench] = body["successCriteria"]["benchmarks"]
        assert (bench["criterion"], bench["median"], bench["topQuartile"]) == (
            "Active users",
            40,
            60,
        )
        measurement = body["measurementPlan"]
        assert measurement["trackingStart"] == plan.started_on.isoformat()
        assert [c["completedDate"] for c in measurement["checkpoints"]] == [
            reviewed_on.isoformat(),
            None,
            None,
        ]
        assert measurement["checkpoints"][0]["type"] == "day_30"
        assert measurement["dashboardUrl"] == f"http://localhost:8501/upsells?plan={plan.id}"
        assert body["outcome"]["lessonsLearned"] == [
            "Dashboards caught on in two teams.",
            "Train the third team.",
        ]
        assert body["outcome"]["evidence"] == body["outcome"]["reasons"]
        hours = body["progress"]["metricsProgress"][1]
        assert (hours["name"], hours["current"]) == ("Hours saved", 8)
    # Before the first review and the outcome, the rest of the shape is all there.
    early = recorded.json()
    later = {"outcome", "reviews"}
    shape = {k: v for k, v in UPSELL_SUCCESS_MEASUREMENT.items() if k not in later}
    assert problems(shape, early) == []
    assert early["outcome"] is None and early["reviews"] == []


def test_the_dashboard_url_follows_the_ui_address_and_its_plan_page(monkeypatch, measured):
    [page] = [p for p in PAGES if p.path == "pages/upsells.py"]
    assert page.url_path == prd.PLAN_PAGE  # the page that opens ?plan=<id>
    monkeypatch.setenv("APP_BASE_URL", "https://outcomes.example.com/app/")
    get_settings.cache_clear()
    try:
        url = prd.dashboard_url(measured["plan"].id)
    finally:
        monkeypatch.delenv("APP_BASE_URL")
        get_settings.cache_clear()
    assert url == f"https://outcomes.example.com/app/upsells?plan={measured['plan'].id}"
