"""Each role's landing at the root: a CSM's Today, the leaders' team headlines, and the rest."""

from datetime import UTC, date, datetime, timedelta

import pytest

from components.deltas import window_words
from core.base import Role
from core.db import session_scope
from core.goals.models import AchievementStatus
from core.reporting.team import WINDOW_DAYS, windows
from core.upsell.models import CheckpointStatus, ProgressStatus
from tests import factories as f
from tests.core.upsell.scenarios import checkpoints_of
from tests.core.upsell.test_analysis import decided
from tests.pages import apptest
from tests.pages.apptest import texts
from tests.pages.visible_text import problems

UPSELLS = "../pages/upsells.py"


def links(at) -> dict[str, list]:
    """Return the page links by the page they open ('' is the root)."""
    found: dict[str, list] = {}
    for link in at.get("page_link"):
        link.proto.label = link.proto.label.replace("\\", "")  # Markdown escapes
        found.setdefault(link.proto.page, []).append(link.proto)
    return found


@pytest.fixture
def book(scratch_db):
    """A CSM with a draft, a held win, an overdue review and a lagging plan waiting."""
    with session_scope() as session:
        csm = f.csm(session, email="casey@outcomes.example")
        acme = f.customer(session, owner=csm, name="Acme Health")
        f.draft(session, acme, csm, subject="Acme Health: faster tickets")
        held = f.goal(session, acme, name="Halve response time")
        f.achievement(session, held, status=AchievementStatus.HELD, rule="a single reading")
        plan = f.plan(session, acme, started_on=date(2026, 8, 1), name="Seats expansion")
        checkpoints_of(session, plan)[30].status = CheckpointStatus.OVERDUE
        plan.progress_status = ProgressStatus.BEHIND
        f.customer(session, owner=f.user(session, Role.CSM, "Other"), name="Not Mine")
        return {"csm": csm.id, "plan": plan.id}


def test_a_csm_lands_on_today_with_each_item_linking_to_where_it_is_handled(book):
    at = apptest.signed_in(book["csm"])  # the root: no page asked for
    assert not at.exception
    assert at.title[0].value == "Today"
    shown = texts(at)
    for title in ("Drafts to approve", "Wins to confirm", "Overdue reviews", "Lagging plans"):
        assert f"**{title}** · 1" in shown
    by_page = links(at)
    (draft,) = [x for x in by_page["approvals"] if "Acme Health" in x.label]
    assert draft.label == "**Acme Health** — faster tickets"  # the name once, then its words
    assert draft.help.replace("\\", "") == "Acme Health: faster tickets"  # in full on hover
    # Approvals also lists colleagues' drafts for the CSM's customers: the links count theirs.
    assert {x.query_string for x in by_page["approvals"]} == {f"owner={book['csm']}"}
    assert [x for x in by_page["wins"] if "Halve response time" in x.label]
    plan_links = [x for x in by_page["upsells"] if x.query_string == f"plan={book['plan']}"]
    assert len(plan_links) == 2  # its overdue review, and the plan lagging
    assert "held for you to confirm: a single reading" in shown
    assert "Day 30 review overdue" in shown
    assert "adoption behind the expected curve · since Aug 1, 2026" in shown
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Customers"] == "1"  # their book only
    assert "Not Mine" not in shown
    assert problems(at) == []
    # Following the overdue review opens its plan.
    at = apptest.open_page(book["csm"], UPSELLS, plan=str(book["plan"]))
    assert "Seats expansion" in texts(at) + " ".join(s.value for s in at.subheader)


def test_a_csm_with_nothing_waiting_is_told_so(scratch_db):
    with session_scope() as session:
        csm = f.csm(session)
        f.customer(session, owner=csm)
    at = apptest.signed_in(csm.id)
    assert at.title[0].value == "Today"
    (done,) = at.success
    assert done.value.startswith("Nothing waits for you today")


@pytest.fixture
def team(scratch_db):
    """A leader; wins in the last 30 days and the 30 before; decided upsell plans."""
    today = datetime.now(UTC)
    with session_scope() as session:
        leader = f.user(session, Role.LEADER, "Lee", email="lee@outcomes.example")
        cust = f.customer(session, owner=f.csm(session))
        for name, days in (("Now A", 3), ("Now B", 10), ("Before", WINDOW_DAYS + 5)):
            won = f.goal(session, cust, name=name, start=date(2026, 1, 1))
            f.achievement(session, won, achieved_at=today - timedelta(days=days))
        decided(session, cust, "success")
        decided(session, cust, "failed", met=(False, False))
        return leader.id


def test_a_leader_lands_on_the_team_wins_and_outcomes(team):
    at = apptest.signed_in(team)
    assert not at.exception
    assert at.title[0].value == "Team wins and outcomes"
    current, previous = windows(datetime.now(UTC).date(), WINDOW_DAYS)
    metrics = {m.label: m for m in at.metric}
    assert metrics["Wins"].value == "2"
    assert metrics["Wins"].delta == f"+1 vs 1 in {window_words(previous)}"
    assert f"Every CSM's verified wins reached {window_words(current)}" in texts(at)
    realization = metrics["Value realization"]
    assert realization.value == "50%" and realization.delta == "-30 pts vs target 80%+"
    assert metrics["Success rate, last 90 days"].value == "50%"
    by_page = links(at)
    assert "wins" in by_page and "outcomes" in by_page
    (every_win,) = by_page["wins"]  # opens the same 30 days, so the figures match
    assert every_win.query_string == f"from={current.first}&to={current.last}"
    assert metrics["Drafts to approve"].value == "0"
    assert problems(at, keys=["ANALYTICS"]) == []
    wins = apptest.open_page(
        team, "../pages/wins.py", **{"from": str(current.first)}, to=str(current.last)
    )
    assert {m.label: m.value for m in wins.metric}["Wins"] == "2"  # not the default year's 3
    assert wins.date_input(key="wins_dates").value == (current.first, current.last)


def test_sales_and_marketing_have_no_home_page(scratch_db):
    with session_scope() as session:
        seller = f.user(session, Role.SALES, "Sam")
    at = apptest.open_page(seller.id, "../pages/home.py")
    assert at.title[0].value == "Home"
    (info,) = at.info
    assert info.value.startswith("This page is for CSMs, CS leaders and admins")
    (go,) = [x.proto for x in at.get("page_link") if x.proto.label.startswith("Go to")]
    assert go.label == "Go to Value repository" and go.page == ""


def test_a_marketer_following_an_admin_link_through_sign_in_is_told_whose_page_it_is(scratch_db):
    with session_scope() as session:
        marketer = f.user(session, Role.MARKETING, "Mia", email="mia@outcomes.example")
    at = apptest.new_app().run()
    at.switch_page("../pages/system.py").run()  # signed out: the sign-in screen
    assert "Demo sign-in" in texts(at)
    at.query_params["user"] = "mia@outcomes.example"
    at.run()
    assert not at.exception
    assert at.session_state["user_id"] == str(marketer.id)
    assert at.title[0].value == "System"
    assert at.info[0].value.startswith("This page is for admins — ask an admin")


def test_a_deep_link_to_the_landing_page_survives_sign_in(scratch_db):
    with session_scope() as session:
        seller = f.user(session, Role.SALES, "Sam", email="sam@outcomes.example")
    at = apptest.new_app().run()
    at.query_params["q"] = "faster onboarding"
    at.switch_page("../pages/value_repository.py").run()  # signed out: remembered
    at.query_params["user"] = "sam@outcomes.example"
    at.run()
    assert not at.exception
    assert at.session_state["user_id"] == str(seller.id)
    assert at.title[0].value == "Value repository"  # the landing, at the root
    assert at.query_params["q"] == "faster onboarding"
