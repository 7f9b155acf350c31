"""The Marketing candidates page: empty state, filters, flagging, moving and a stale move."""

import csv
import io

import pytest
from sqlalchemy import select

from components.marketing_views import candidates_csv
from core.base import Consent, Role
from core.db import session_scope
from core.marketing.models import CandidateType, FlagStatus, MarketingFlag
from core.marketing.queries import list_candidates
from core.marketing.service import move_candidate_flag
from tests import factories as f
from tests.core.marketing.test_candidates import add_win, detect_and_document
from tests.pages import apptest
from tests.pages.apptest import texts

PAGE = "../pages/marketing.py"


def open_page(user_id):
    return apptest.open_page(user_id, PAGE)


def test_before_any_win_the_page_explains_where_wins_come_from(scratch_db):
    # (the demo book has wins from before its first run: an empty database has none)
    with session_scope() as session:
        user_id = f.user(session, Role.MARKETING).id
    at = open_page(user_id)
    assert at.title[0].value == "Marketing candidates"
    (info,) = at.info
    assert "No wins to market yet" in info.value and "detection job" in info.value
    assert not at.tabs and not at.metric


@pytest.fixture
def seeded(scratch_db):
    with session_scope() as session:
        marketer = f.user(session, Role.MARKETING, "Grace Kim", email="grace@outcomes.example")
        owner = f.csm(session)
        add_win(session, owner, "Acme Health")
        add_win(session, owner, "Initech", industry="fintech", consent=Consent.ANONYMIZED)
        add_win(session, owner, "Umbrella Corp", consent=Consent.INTERNAL_ONLY)
        detect_and_document(session)
        session.flush()
        items = {i.customer_label: i for i in list_candidates(session=session).items}
        return {"user": marketer.id, "items": items}


def test_marketer_filters_flags_moves_and_meets_a_stale_move(seeded):
    acme = seeded["items"]["Acme Health"]
    at = open_page(seeded["user"])
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Flagged"] == "0" and metrics["Utilization"] == "0%"
    shown = texts(at)
    assert "Showing 1–3 of 3 wins" in shown and "A mid-market fintech company" in shown
    assert "Initech" not in shown and "Umbrella" not in shown
    assert "Anonymized · not for public naming" in shown

    at.slider(key="mk_min_score").set_value(acme.score).run()
    assert "Showing 1–1 of 1 wins" in texts(at)
    at.slider(key="mk_min_score").set_value(0).run()
    at.selectbox(key="mk_type").select(CandidateType.TESTIMONIAL).run()
    assert "Showing 1–1 of 1 wins" in texts(at) and "Acme Health" in texts(at)

    key = acme.achievement_id
    assert at.selectbox(key=f"flag_type_{key}").value == CandidateType.TESTIMONIAL  # suggested
    at.text_area(key=f"flag_notes_{key}").input("Q1 webinar <b>story</b>")
    at.button(key=f"FormSubmitter:flag_{key}-Flag").click().run()
    assert not at.exception
    assert f"{acme.reference} flagged as a testimonial" in texts(at)
    with session_scope() as session:
        flag = session.scalar(select(MarketingFlag))
        assert flag.status == FlagStatus.FLAGGED and flag.notes == "Q1 webinar <b>story</b>"
    assert "Testimonial · flagged" in texts(at)
    assert any(r"Q1 webinar \<b\>story\</b\>" in c.value for c in at.caption)  # shown literally
    assert {m.label: m.value for m in at.metric}["Flagged"] == "1"
    assert [t.label for t in at.tabs][1] == "Flag board (1)"
    assert {b.key for b in at.button if b.key and b.key.startswith("move_")} == {
        f"move_{flag.id}_contacted",
        f"move_{flag.id}_declined",
    }

    at.button(key=f"move_{flag.id}_contacted").click().run()
    assert "Moved to contacted" in texts(at)
    with session_scope() as session:
        assert session.get(MarketingFlag, flag.id).status == FlagStatus.CONTACTED
        # Someone else moves it on while this page still shows version 2.
        move_candidate_flag(
            session=session,
            flag_id=flag.id,
            status="in_progress",
            expected_version=2,
            actor_id=seeded["user"],
        )
    at.button(key=f"move_{flag.id}_in_progress").click().run()
    assert not at.exception
    (error,) = at.error
    assert "Someone else moved this flag" in error.value
    assert f"move_{flag.id}_used" in {b.key for b in at.button}  # the board shows the news
    with session_scope() as session:
        assert session.get(MarketingFlag, flag.id).version == 3


def test_no_match_guides_and_clear_filters_resets(seeded):
    at = open_page(seeded["user"])
    at.selectbox(key="mk_flag_status").select(FlagStatus.USED).run()
    assert any("No wins match these filters" in i.value for i in at.info)
    at.button(key="mk_clear").click().run()
    assert "Showing 1–3 of 3 wins" in texts(at)
    assert at.get("plotly_chart") == [] and "Nothing to chart" in texts(at)


def test_csv_export_is_consent_safe_and_formula_proof(seeded):
    items = list(seeded["items"].values())
    rows = list(csv.DictReader(io.StringIO(candidates_csv(items))))
    assert len(rows) == 3
    exported = "\n".join(",".join(r.values()) for r in rows)
    assert "Initech" not in exported and "Umbrella" not in exported
    assert "Dana Ortiz" in exported  # the named customer's respondent may be quoted by name
    assert all(r["Why this score"].startswith("'+") for r in rows)  # '+…' would run as a formula
    assert {r["Customer"] for r in rows} >= {"Acme Health", "A mid-market fintech company"}
