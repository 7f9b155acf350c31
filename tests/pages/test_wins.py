"""The Wins and Win details pages: empty states, metrics, feed, scoping and confirming a win."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, func, select
from streamlit.testing.v1 import AppTest

from core.accounts.models import User
from core.base import Consent, Direction, Role
from core.db import session_scope
from core.documentation.service import document_pending
from core.goals.detection import detect
from core.goals.models import Achievement, AchievementStatus, GoalType
from core.records.models import SuccessRecord
from tests import factories as f
from tests.pages import apptest
from tests.pages.apptest import texts
from tests.pages.visible_text import problems

WINS, DETAIL = "../pages/wins.py", "../pages/achievement.py"
RISING = [48, 52, 49, 51, 50, 47, 53, 50, 49, 51, 52, 48, 50, 51, 56, 57, 58]


def open_page(user_id, path=WINS, **query) -> AppTest:
    return apptest.open_page(user_id, path, **query)


def links(at: AppTest) -> list:
    return [link.proto for link in at.get("page_link")]


@pytest.fixture
def seeded(scratch_db):
    """Committed wins for two CSMs' customers (detected now), one open custom goal and one goal
    whose data crossed the target and fell back before anyone recorded it (a missed win)."""
    now = datetime.now(UTC)
    with session_scope() as session:
        people = {
            "leader": f.user(session, Role.LEADER, "Lee Leader", email="lee@outcomes.example"),
            "casey": f.csm(session, "Casey CSM", email="casey@outcomes.example"),
            "dana": f.csm(session, "Dana CSM", email="dana@outcomes.example"),
            "mo": f.user(session, Role.MARKETING, "Mo Marketing", email="mo@outcomes.example"),
            "admin": f.user(session, Role.ADMIN, "Ada Admin", email="ada@outcomes.example"),
        }
        acme = f.customer(
            session,
            owner=people["casey"],
            name="Acme <Health>",
            industry="healthcare",
            consent=Consent.FULL_PUBLIC,
        )
        beta = f.customer(
            session,
            owner=people["dana"],
            name="Beta Bank",
            industry="banking",
            consent=Consent.FULL_PUBLIC,
        )
        f.metric(session, "weekly_active_users", Direction.HIGHER, "users")
        start = now.date() - timedelta(days=40)
        for cust in (acme, beta):
            f.goal(
                session,
                cust,
                metric_key="weekly_active_users",
                target=55,
                baseline=45,
                name="Grow weekly active users",
                start=start,
            )
            f.observe(session, cust, "weekly_active_users", RISING, end=now - timedelta(hours=6))
        custom = f.goal(session, acme, type=GoalType.CUSTOM, name="Executive sponsor signed off")
        f.metric(session, "seats_used", Direction.HIGHER, "seats")
        f.goal(session, acme, metric_key="seats_used", target=80, baseline=60, name="Fill seats")
        seats = [60] * 5 + [85] * 4 + [70] * 3
        f.observe(session, acme, "seats_used", seats, end=now - timedelta(days=3))
        detect(session=session, now=now)
        document_pending(session=session, now=now)
        ids = {k: u.id for k, u in people.items()}
        ids["custom"] = custom.id
        ids["acme"] = acme.id
        ids["acme_win"] = session.scalar(
            select(Achievement.id).where(Achievement.customer_id == acme.id)
        )
    return ids


def test_no_wins_yet_explains_the_detection_job(scratch_db):
    # (the demo book has wins from before its first run: an empty database has none)
    with session_scope() as session:
        leader, csm = f.user(session, Role.LEADER).id, f.csm(session).id
    at = open_page(leader)
    assert at.title[0].value == "Wins"
    assert "No wins yet" in texts(at) and "every few minutes" in texts(at)
    assert not at.metric and not at.get("plotly_chart")
    assert "Needs your confirmation" in [s.value for s in at.subheader]
    at = open_page(csm)
    assert [t.label for t in at.toggle] == ["Whole team"]


def test_leader_sees_metrics_charts_feed_and_recognition(seeded):
    at = open_page(seeded["leader"])
    metrics = {m.label: m for m in at.metric}
    assert metrics["Wins"].value == "2"
    assert metrics["Achievement capture"].value == "67%"  # 2 documented of 3 reached
    assert "-23 pts vs target 90%+" in metrics["Achievement capture"].proto.delta
    assert metrics["Customer communication"].value == "0%"
    # Three daily points prove a win, so the record comes 2 days after the goal was reached.
    assert metrics["Documented within 24 h"].value == "0%"
    assert "Marketing utilization" in metrics
    # over time, type, days, industry, recognition, and the documentation delays
    assert len(at.get("plotly_chart")) == 6
    feed = [link for link in links(at) if link.query_string and "emoji_events" in link.icon]
    assert len(feed) == 2 and "Acme <Health>" in [
        link.label.replace("\\", "").split("** — ")[0].strip("*") for link in feed
    ]
    assert f"achievement={seeded['acme_win']}" in {link.query_string for link in feed}
    assert "CSM: Casey CSM" in texts(at) and "Not posted to Slack yet" in texts(at)
    assert "Slack queued" not in texts(at)
    assert "Executive sponsor signed off" in texts(at)


def test_each_metric_lists_the_rows_behind_it(seeded):
    at = open_page(seeded["leader"])
    drills = {e.label.split(":")[0]: e for e in at.expander if ": " in e.label}
    assert drills["Achievement capture"].label == (
        "Achievement capture: 2 of 3 wins documented; 1 missed"
    )
    assert drills["Documented within 24 h"].label == (
        "Documented within 24 h: 0 of 3 wins documented within 24 h of being reached; "
        "3 later or never"
    )
    assert "Marketing utilization: 0 of 2 wins used in marketing" in [e.label for e in at.expander]
    missed = [link for link in links(at) if f"customer={seeded['acme']}" in link.query_string]
    assert len(missed) == 2  # listed under capture and under timeliness, linking to the customer
    assert all("Fill seats" in x.label and "never recorded as a win" in x.label for x in missed)
    assert "1 goal met its target in the data but was never recorded." in texts(at)
    assert (
        "2 wins documented later than 24 h; 1 goal met its target in the data but was never "
        "recorded." in texts(at)
    )
    assert "Half of the 2 documented wins were written up within 2.2 days" in texts(at)
    late = [x for x in links(at) if "documented 2.2 days later" in x.label.replace("\\", "")]
    assert {link.query_string for link in late} >= {f"achievement={seeded['acme_win']}"}


def test_csm_sees_their_book_and_can_switch_to_the_team(seeded):
    at = open_page(seeded["casey"])
    assert {m.label: m.value for m in at.metric}["Wins"] == "1"
    assert "Beta Bank" not in texts(at) + str(links(at))
    at.toggle(key="wins_team").set_value(True).run()
    assert {m.label: m.value for m in at.metric}["Wins"] == "2"
    at.selectbox(key="wins_industry").set_value("banking").run()
    assert {m.label: m.value for m in at.metric}["Wins"] == "1"


def test_each_metric_card_says_what_its_figure_is_out_of(seeded):
    # Capture, email and 24 h metrics count different wins: each card says which.
    captions = [c.value for c in open_page(seeded["leader"]).caption]
    assert captions.count("Out of verified wins only.") == 2
    assert any(
        c.startswith("Out of every win reached: verified, met in the data") for c in captions
    )
    assert any(c.startswith("Out of wins reached, except custom goals past due") for c in captions)


def test_marketing_sees_wins_but_no_confirmation_panel(seeded):
    at = open_page(seeded["mo"])
    assert {m.label: m.value for m in at.metric}["Wins"] == "2"
    assert "Needs your confirmation" not in [s.value for s in at.subheader]
    assert "Slack" not in texts(at)


@pytest.mark.parametrize("role", ["mo", "leader", "admin"])
def test_only_admins_read_how_a_win_was_delivered(seeded, role):
    # Deliveries wait in the outbox here: an admin reads their state; no one else does.
    at = open_page(seeded[role], DETAIL, achievement=str(seeded["acme_win"]))
    shown = texts(at)
    assert ("Slack announcement :orange-badge[Pending]" in shown) == (role == "admin")
    assert ("badge[Pending]" in shown) == (role == "admin")
    assert ("Announcements" in [s.value for s in at.subheader]) == (role != "mo")
    assert ("Congratulations email draft" in shown) == (role != "mo")
    if role == "leader":
        assert "Not posted to Slack yet" in shown and "waiting for approval" in shown
    assert problems(at) == []


def _confirm(at: AppTest, goal_id, note: str) -> AppTest:
    at.text_area(key=f"confirm_note_{goal_id}").input(note)  # a custom goal: no number asked
    return at.button(key=f"FormSubmitter:confirm_{goal_id}-Confirm win").click().run()


def _achievements(goal_id) -> list:
    with session_scope() as session:
        return session.execute(
            select(Achievement, SuccessRecord)
            .outerjoin(SuccessRecord, SuccessRecord.achievement_id == Achievement.id)
            .where(Achievement.goal_id == goal_id)
        ).all()


def test_missing_note_shows_the_error_and_confirms_nothing(seeded):
    at = _confirm(open_page(seeded["casey"]), seeded["custom"], "   ")
    assert not at.exception
    assert any("needs a note" in e.value for e in at.error)
    assert _achievements(seeded["custom"]) == []


def test_confirming_a_custom_goal_writes_the_win_and_its_record(seeded):
    at = _confirm(open_page(seeded["casey"]), seeded["custom"], "Sponsor signed on the QBR call")
    assert not at.exception
    assert any("Confirmed" in s.value for s in at.success)
    [(win, record)] = _achievements(seeded["custom"])
    assert win.status == AchievementStatus.VERIFIED and win.achieved_value is None
    assert win.verification_note == "Sponsor signed on the QBR call" and record is not None
    assert {m.label: m.value for m in at.metric}["Wins"] == "2"  # the book now has two wins
    assert f"achievement={win.id}" in {link.query_string for link in links(at)}


def test_win_details_show_the_record_chart_and_downloads(seeded):
    at = open_page(seeded["leader"], DETAIL, achievement=str(seeded["acme_win"]))
    assert at.title[0].value.replace("\\", "") == "Acme <Health>: Grow weekly active users"
    assert len(at.get("plotly_chart")) == 1
    assert {"Success record", "Evidence", "Announcements", "Marketing potential"} <= {
        s.value for s in at.subheader
    }
    assert "raised weekly active users from 45 users to 58 users" in texts(at)
    assert [b.proto.label for b in at.get("download_button")] == ["Markdown", "HTML"]
    assert "Not posted to Slack yet" in texts(at) and "Congratulations email draft" in texts(at)


def test_a_plan_win_shows_its_milestones_not_empty_figures(seeded):
    with session_scope() as session:
        cust = f.customer(session, name="Plan Co", consent=Consent.FULL_PUBLIC)
        plan = f.goal(session, cust, type=GoalType.SUCCESS_PLAN, name="Finish onboarding plan")
        win = f.achievement(session, plan, evidence={"milestones": 4}).id
    at = open_page(seeded["leader"], DETAIL, achievement=str(win))
    tiles = [c.value for c in at.caption]
    assert "Milestones done" in tiles and "**4**" in [m.value for m in at.markdown]
    assert not {"Baseline", "Target", "Achieved"} & set(tiles)
    assert "| Measure | Success plan |" in texts(at)
    assert problems(at) == []


@pytest.mark.parametrize("chosen", [None, "not-a-uuid", "00000000-0000-0000-0000-000000000000"])
def test_win_details_without_a_known_win_link_back(seeded, chosen):
    query = {"achievement": chosen} if chosen else {}
    at = open_page(seeded["leader"], DETAIL, **query)
    assert at.title[0].value == "Win details"
    assert ("No win selected" if chosen is None else "does not exist") in texts(at)
    assert any(link.label == "Back to Wins" for link in links(at))


def test_every_role_opens_both_pages_on_the_demo_data(app_db):
    engine = create_engine(app_db)
    with engine.connect() as conn:
        people = conn.execute(select(User.role, func.min(User.email)).group_by(User.role)).all()
        ids = {
            role: conn.scalar(select(User.id).where(User.email == email)) for role, email in people
        }
    engine.dispose()
    for user_id in ids.values():
        for path in (WINS, DETAIL):
            open_page(user_id, path)
