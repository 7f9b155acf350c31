"""Marketing candidates: consent-safe listing, filters, the flag board and utilization."""

import uuid
from datetime import date, timedelta

import pytest

from core.base import Consent, Direction, Role
from core.documentation.service import document_pending
from core.errors import Conflict, Invalid, NotFound
from core.goals.detection import detect
from core.marketing.models import CandidateType, FlagStatus
from core.marketing.queries import UNFLAGGED, flag_board, list_candidates, reference, utilization
from core.marketing.service import flag_candidate, move_candidate_flag
from tests import factories as f

RISING = [48, 52, 49, 51, 50, 47, 53, 50, 49, 51, 52, 48, 50, 51, 56, 57, 58]


def add_win(
    session,
    owner,
    name,
    *,
    industry="healthcare",
    consent=Consent.FULL_PUBLIC,
    values=RISING,
    nps=10,
):
    """Create a customer whose goal the detection job will find achieved."""
    cust = f.customer(
        session,
        owner=owner,
        name=name,
        industry=industry,
        consent=consent,
        health=72,
        use_case="Support automation",
        customer_since=date(2023, 2, 1),
    )
    f.feedback(
        session,
        cust,
        when=f.NOW - timedelta(days=20),
        score=nps,
        comment=f"{name} got a full day back every week thanks to the automation rules.",
        respondent_name="Dana Ortiz",
        respondent_title="VP Support",
    )
    f.metric(session, "weekly_active_users", Direction.HIGHER, "users")
    goal = f.goal(
        session,
        cust,
        metric_key="weekly_active_users",
        target=55,
        baseline=45,
        name=f"Grow {name} weekly active users to 55",
    )
    f.observe(session, cust, "weekly_active_users", values)
    return cust, goal


def detect_and_document(session):
    detect(session=session, now=f.NOW)
    document_pending(session=session, now=f.NOW)


@pytest.fixture
def marketer(session):
    return f.user(session, Role.MARKETING, "Grace Kim", email="grace@outcomes.example")


@pytest.fixture
def wins(session):
    owner = f.csm(session)
    add_win(session, owner, "Acme Health")
    add_win(session, owner, "Brightline Bank", industry="fintech", consent=Consent.LOGO, nps=7)
    add_win(session, owner, "Initech", industry="fintech", consent=Consent.ANONYMIZED)
    add_win(session, owner, "Umbrella Corp", consent=Consent.INTERNAL_ONLY)
    detect_and_document(session)
    found = list_candidates(session=session).items
    return {item.customer_label: item for item in found}


def test_only_documented_wins_appear(session):
    add_win(session, f.csm(session), "Acme Health")
    detect(session=session, now=f.NOW)
    assert list_candidates(session=session).total == 0
    assert utilization(session=session).wins == 0
    document_pending(session=session, now=f.NOW)
    assert list_candidates(session=session).total == 1


def test_a_named_win_carries_score_reasons_quote_and_value(wins):
    acme = wins["Acme Health"]
    assert acme.customer_name == "Acme Health" and acme.consent_level == Consent.FULL_PUBLIC
    assert acme.summary.startswith("Acme Health (healthcare, mid-market) raised weekly active")
    assert acme.goal == "Grow Acme Health weekly active users to 55"
    assert acme.value == "58 users" and acme.industry == "healthcare"
    assert acme.quote.startswith("Acme Health got a full day back")
    assert acme.quote_by == "Dana Ortiz, VP Support"
    assert 0 < acme.score <= 100 and any("consent: full public" in r for r in acme.reasons)
    assert CandidateType.TESTIMONIAL in acme.candidate_types
    assert acme.flags == [] and acme.csm_name == "Casey Rivera"
    assert acme.reference == reference(acme.achievement_id)


def test_consent_decides_whether_the_customer_is_named(wins):
    logo = wins["Brightline Bank"]  # logo consent may be named; its NPS 7 comment is no quote
    assert logo.customer_name == "Brightline Bank" and logo.quote is logo.quote_by is None
    hidden = {
        "A mid-market fintech company": "Initech",
        "A mid-market healthcare company": "Umbrella Corp",
    }
    for label, name in hidden.items():
        item = wins[label]
        assert item.customer_name is None
        said = [item.quote or "", item.quote_by or ""]
        shown = " ".join([item.customer_label, item.goal, item.summary, *said])
        assert name.lower() not in shown.lower()
        assert "Dana Ortiz" not in shown
        assert item.summary.startswith("The customer (")
    anonymized = wins["A mid-market fintech company"]  # quoted by title, name scrubbed
    assert anonymized.quote.startswith("The customer got a full day back")
    assert anonymized.quote_by == "VP Support"
    internal = wins["A mid-market healthcare company"]  # internal only: no quote at all
    assert internal.quote is internal.quote_by is None


def test_filters_combine(session, wins, marketer):
    scores = sorted(item.score for item in wins.values())
    assert [i.score for i in list_candidates(session=session).items] == scores[::-1]
    high = list_candidates(session=session, min_score=scores[-2])
    assert high.total == 2 and all(i.score >= scores[-2] for i in high.items)

    fintech = list_candidates(session=session, industry="fintech").items
    assert {i.customer_label for i in fintech} == {
        "Brightline Bank",
        "A mid-market fintech company",
    }
    consent = list_candidates(session=session, consent=[Consent.ANONYMIZED, "internal_only"])
    assert {i.consent_level for i in consent.items} == {Consent.ANONYMIZED, Consent.INTERNAL_ONLY}

    testimonials = list_candidates(session=session, candidate_type="testimonial").items
    assert testimonials and all(
        CandidateType.TESTIMONIAL in i.candidate_types for i in testimonials
    )
    assert "A mid-market healthcare company" not in {i.customer_label for i in testimonials}

    acme = wins["Acme Health"]
    flag = flag_candidate(
        session=session,
        achievement_id=acme.achievement_id,
        candidate_type="testimonial",
        actor_id=marketer.id,
    )
    unflagged = list_candidates(session=session, flag_status=UNFLAGGED).items
    assert len(unflagged) == 3 and acme.achievement_id not in {i.achievement_id for i in unflagged}
    assert [
        i.customer_label for i in list_candidates(session=session, flag_status="flagged").items
    ] == ["Acme Health"]
    assert list_candidates(session=session, flag_status=FlagStatus.CONTACTED).total == 0
    move_candidate_flag(
        session=session,
        flag_id=flag.id,
        status="contacted",
        expected_version=flag.version,
        actor_id=marketer.id,
    )
    assert list_candidates(session=session, flag_status="contacted").total == 1
    assert list_candidates(session=session, limit=1).total == 4

    for bad in (
        {"flag_status": "maybe"},
        {"candidate_type": "billboard"},
        {"min_score": 101},
        {"consent": ["public"]},
        {"limit": 0},
        {"order": "random"},
    ):
        with pytest.raises(Invalid):
            list_candidates(session=session, **bad)


def test_flags_are_aggregated_and_grouped_on_the_board(session, wins, marketer):
    acme = wins["Acme Health"]
    kwargs = {"session": session, "achievement_id": acme.achievement_id, "actor_id": marketer.id}
    testimonial = flag_candidate(**kwargs, candidate_type="testimonial", notes="  Q1 webinar ")
    flag_candidate(**kwargs, candidate_type="social_proof")
    with pytest.raises(Conflict, match="already flagged as a testimonial"):
        flag_candidate(**kwargs, candidate_type="testimonial")
    moved = move_candidate_flag(
        session=session,
        flag_id=testimonial.id,
        status="contacted",
        expected_version=testimonial.version,
        actor_id=marketer.id,
    )
    assert moved.version == testimonial.version + 1

    (item,) = list_candidates(session=session, industry="healthcare", min_score=acme.score).items
    assert {x.candidate_type: (x.status, x.version, x.notes) for x in item.flags} == {
        CandidateType.TESTIMONIAL: (FlagStatus.CONTACTED, moved.version, "Q1 webinar"),
        CandidateType.SOCIAL_PROOF: (FlagStatus.FLAGGED, 1, None),
    }
    assert item.open_types == [CandidateType.CASE_STUDY, CandidateType.REFERENCE]

    board = flag_board(session=session)
    assert list(board) == list(FlagStatus)
    assert [len(board[s]) for s in FlagStatus] == [1, 1, 0, 0, 0]
    (contacted,) = board[FlagStatus.CONTACTED]
    assert contacted.customer_label == "Acme Health" and contacted.notes == "Q1 webinar"
    assert contacted.next_steps == [FlagStatus.IN_PROGRESS, FlagStatus.DECLINED]
    assert board[FlagStatus.FLAGGED][0].next_steps == [FlagStatus.CONTACTED, FlagStatus.DECLINED]


def test_the_board_never_names_a_hidden_customer(session, wins, marketer):
    hidden = wins["A mid-market fintech company"]
    flag_candidate(
        session=session,
        achievement_id=hidden.achievement_id,
        candidate_type="social_proof",
        actor_id=marketer.id,
    )
    (card,) = flag_board(session=session)[FlagStatus.FLAGGED]
    assert card.customer_label == "A mid-market fintech company"
    assert "Initech" not in card.goal and card.reference == hidden.reference


def test_a_stale_or_disallowed_move_is_refused(session, wins, marketer):
    flag = flag_candidate(
        session=session,
        achievement_id=wins["Acme Health"].achievement_id,
        candidate_type="reference",
        actor_id=marketer.id,
    )
    move = {"session": session, "flag_id": flag.id, "actor_id": marketer.id}
    move_candidate_flag(**move, status="contacted", expected_version=flag.version)
    with pytest.raises(Conflict, match="Someone else moved this flag"):
        move_candidate_flag(**move, status="in_progress", expected_version=flag.version)
    with pytest.raises(Invalid, match="can move to declined, in_progress"):
        move_candidate_flag(**move, status="used", expected_version=flag.version + 1)
    with pytest.raises(NotFound):
        move_candidate_flag(
            **move | {"actor_id": uuid.uuid4()},
            status="declined",
            expected_version=flag.version + 1,
        )


def test_utilization_counts_used_wins_against_all_wins(session, wins, marketer):
    empty = utilization(session=session)
    assert (empty.wins, empty.flagged, empty.used, empty.utilization) == (4, 0, 0, 0.0)
    assert empty.candidates == sum(bool(i.candidate_types) for i in wins.values())

    def walk(label, kind, steps):
        flag = flag_candidate(
            session=session,
            achievement_id=wins[label].achievement_id,
            candidate_type=kind,
            actor_id=marketer.id,
        )
        for version, step in enumerate(steps, start=flag.version):
            move_candidate_flag(
                session=session,
                flag_id=flag.id,
                status=step,
                expected_version=version,
                actor_id=marketer.id,
            )

    walk("Acme Health", "testimonial", ["contacted", "in_progress", "used"])
    walk("Acme Health", "reference", ["contacted", "in_progress", "used"])  # same win: counts once
    walk("Brightline Bank", "social_proof", ["contacted", "in_progress"])
    walk("A mid-market fintech company", "social_proof", ["declined"])

    usage = utilization(session=session)
    assert (usage.wins, usage.flagged, usage.used) == (4, 3, 1)
    assert usage.utilization == pytest.approx(0.25) and usage.target == 0.20
    assert usage.by("status") == {
        "flagged": 0,
        "contacted": 0,
        "in_progress": 1,
        "used": 2,
        "declined": 1,
    }
    assert usage.by("candidate_type") == {
        "case_study": 0,
        "testimonial": 1,
        "reference": 1,
        "social_proof": 2,
    }
