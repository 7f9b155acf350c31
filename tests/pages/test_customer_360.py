"""The customer page as a CSM reads it before a call: the header, then one section at a time
(health, goals and wins, upsells, contacts and feedback, usage, timeline) with links to wins
and plans, and never a raw value or "None"."""

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from core.base import Consent, Direction, Role
from core.customers.health import refresh_scores, set_crm_health, upsert_factor
from core.customers.models import TimelineEvent
from core.db import session_scope
from core.goals.models import GoalStatus, GoalType
from core.records.models import SuccessRecord
from core.upsell.models import Checkpoint
from tests import factories as f
from tests.pages import apptest
from tests.pages.visible_text import problems

PAGE = "../pages/customers.py"
KEYS = {"weekly_active_users"}
EDITOR_COLUMNS = ("dataframe column 'Due date'", "dataframe column 'Milestone'")
ICON = re.compile(r":material/[a-z_]+:")
RAW = re.compile(r"\bNone\b|\bnan\b|\b[a-z]+_[a-z_]+\b")  # "None", NaN cells, enum values


@pytest.fixture
def acme(scratch_db):
    """A CSM's customer with health factors, goals, a documented win, a success plan, an
    upsell with its plan and timeline lines about both; returns the ids."""
    with session_scope() as session:
        owner = f.csm(session, email="casey@outcomes.example")
        sales = f.user(session, Role.SALES, "Sam Sales", email="sam@outcomes.example")
        cust = f.customer(
            session,
            name="Acme Health",
            owner=owner,
            consent=Consent.ANONYMIZED,
            customer_since=date(2024, 3, 1),
            external_id="ACME-1",
            health=None,
        )
        set_crm_health(session=session, customer_id=cust.id, score=Decimal(40))
        upsert_factor(
            session=session,
            customer_id=cust.id,
            factor="goal_attainment",
            score=Decimal(70),
            source="goal_detection",
        )
        refresh_scores(session=session, customer_ids=[cust.id])  # as the health pass would
        f.metric(session, "weekly_active_users", Direction.HIGHER, "users")
        f.goal(session, cust, name="Adopt reporting", type=GoalType.CUSTOM)  # no metric or due
        won = f.goal(
            session,
            cust,
            name="More weekly users",
            metric_key="weekly_active_users",
            baseline=40,
            target=55,
            unit="users",
            status=GoalStatus.ACHIEVED,
        )
        win = f.achievement(session, won, achieved_at=datetime(2026, 11, 20, tzinfo=UTC))
        f.add(
            session,
            SuccessRecord(
                achievement_id=win.id,
                title="Acme Health grew weekly users",
                summary="s",
                markdown="m",
            ),
        )
        f.success_plan(session, cust, won, ["done", "open"], name="Launch analytics")
        plan = f.plan(session, cust, started_on=date(2026, 10, 1), name="Analytics seats")
        plan.health_before = Decimal(45)
        checkpoint = session.query(Checkpoint).filter_by(measurement_id=plan.id, day=30).one()
        for kind, title, related_type, related_id, days in (
            ("goal_achieved", "Goal achieved: More weekly users", "achievement", win.id, 10),
            ("checkpoint_triggered", "Day 30 check prepared", "checkpoint", checkpoint.id, 5),
            ("qbr", "Quarterly business review held", None, None, 2),
        ):
            f.add(
                session,
                TimelineEvent(
                    customer_id=cust.id,
                    occurred_at=datetime.now(UTC) - timedelta(days=days),
                    kind=kind,
                    title=title,
                    related_type=related_type,
                    related_id=related_id,
                ),
            )
        f.feedback(session, cust, comment="Reporting saves our team hours every single week.")
        return {
            "csm": owner.id,
            "sales": sales.id,
            "customer": cust.id,
            "win": win.id,
            "plan": plan.id,
        }


def open_section(ids, section: str | None = None, user: str = "csm"):
    at = apptest.open_page(ids[user], PAGE, customer=str(ids["customer"]))
    if section:
        at.button_group(key="section").set_value(section).run()
        assert not at.exception, at.exception
    return at


def links(at) -> dict[str, list[dict]]:
    """Each page link's label -> the pages and query parameters it opens."""
    found: dict[str, list[dict]] = {}
    for link in at.get("page_link"):
        proto = link.proto
        found.setdefault(proto.label.replace("\\", ""), []).append(
            {"page": proto.page, "query": proto.query_string}
        )
    return found


def table(at, column: str):
    """The first table with `column` (the customer list comes before the sections)."""
    return next(d.value for d in at.dataframe if column in d.value.columns)


def shown(at) -> str:
    """The visible prose and every table cell."""
    sections = [d.value for d in at.dataframe if "id" not in d.value.columns]  # not the list
    cells = [str(v) for frame in sections for v in frame.astype(str).to_numpy().ravel()]
    return ICON.sub("", "\n".join([apptest.texts(at), *cells]))


def test_the_header_says_what_a_csm_needs_before_a_call(acme):
    at = open_section(acme)
    assert [s.value for s in at.subheader] == ["Acme Health"]
    text = apptest.texts(at)
    for fact in ("$100K", "Mid-market", "Casey Rivera", "50 · Watch (40-69)", "Anonymized"):
        assert f"**{fact}**" in text, fact
    assert "**Mar 2024**" in text and "Customer id ACME-1" in text
    assert "1 open goal · 1 win · 1 upsell plan running" in text
    assert "Last renewal" not in text  # no renewal was reported


def test_every_section_renders_without_raw_values(acme):
    for section in ("health", "goals", "upsells", "people", "usage", "timeline"):
        at = open_section(acme, section)
        found = RAW.findall(shown(at).replace("casey@outcomes.example", ""))
        assert not found, (section, found)
        # The milestone editors of the plan set-up (components/plan_forms.py) are not read here.
        mine = [p for p in problems(at, keys=KEYS) if not p.startswith(EDITOR_COLUMNS)]
        assert not mine, (section, mine)


def test_health_lists_factors_weights_and_the_readings_over_time(acme):
    at = open_section(acme)
    frame = table(at, "Factor")
    assert list(frame["Factor"]) == ["CRM health score", "Goal attainment"]
    assert list(frame["Weight"]) == ["2", "1"] and list(frame["Share of the score"]) == [
        "67%",
        "33%",
    ]
    text = apptest.texts(at)
    assert "weighted mean of the 2 factors" in text
    assert "45 when the plan for Analytics seats started, 2026-10-01" in text
    assert len(at.get("plotly_chart")) == 1


def test_goals_show_plain_cells_and_the_win_links_its_details(acme):
    at = open_section(acme, "goals")
    goals = table(at, "Goal").set_index("Goal")
    assert goals.loc["Adopt reporting", "Baseline"] == "—"
    assert goals.loc["Adopt reporting", "Due"] == "No due date"
    assert goals.loc["More weekly users", "Target"] == "55 users"
    assert table(at, "Milestones").loc[0, "Milestones"] == "1 of 2 done"
    [win] = links(at)["**Acme Health grew weekly users**"]
    assert win["page"] == "achievement"
    assert win["query"] == f"achievement={acme['win']}"


def test_upsells_link_their_measurement_plan(acme):
    at = open_section(acme, "upsells")
    assert "**Analytics seats**" in apptest.texts(at)
    [plan] = links(at)["Open in Upsell progress"]
    assert plan["page"] == "upsells" and plan["query"] == f"plan={acme['plan']}"


def test_the_timeline_names_kinds_in_words_and_links_wins_and_plans(acme):
    at = open_section(acme, "timeline")
    text = apptest.texts(at)
    assert ":blue-badge[Quarterly business review]" in text and "Qbr" not in text
    found = links(at)
    assert found["Open the win"] == [{"page": "achievement", "query": f"achievement={acme['win']}"}]
    assert found["Open the measurement plan"] == [
        {"page": "upsells", "query": f"plan={acme['plan']}"}
    ]


def test_sales_see_the_customer_described_without_upsells_or_plan_links(acme):
    at = open_section(acme, user="sales")
    assert [s.value for s in at.subheader] != ["Acme Health"]
    assert "Upsells" not in at.button_group(key="section").options
    at.button_group(key="section").set_value("timeline").run()
    assert "Acme" not in apptest.texts(at)
    assert "Open the measurement plan" not in links(at)
    assert "Open the win" in links(at)


def test_a_goal_added_here_shows_at_once_despite_the_cache(acme):
    at = open_section(acme, "goals")
    at.text_input(key="goal_new_0_name").input("Cut ticket backlog")
    at.selectbox(key="goal_new_0_metric").select("weekly_active_users")
    at.number_input(key="goal_new_0_target").set_value(80.0)
    at.button(key="FormSubmitter:goal_new_0-Create goal").click().run()
    assert not at.exception, at.exception
    assert "Cut ticket backlog" in list(table(at, "Goal")["Goal"])
    assert "2 open goals" in apptest.texts(at)


@pytest.mark.parametrize("asked", ["timeline", "value_pack", "value-pack"])
def test_a_shared_link_opens_its_section_and_keeps_it_in_the_address(acme, asked):
    at = apptest.open_page(acme["csm"], PAGE, customer=str(acme["customer"]), section=asked)
    shown = asked.replace("_", "-")
    assert at.button_group(key="section").value == shown
    assert at.get_by_key(f"customer_{shown}")  # that section renders, not Health
    at.button_group(key="section").set_value("usage").run()  # a later click still counts
    assert at.get_by_key("customer_usage")
    # The address keeps a section other than Health: the picker's default is Health, not the
    # asked one (a bound value equal to its default leaves the address); seen in the browser.
