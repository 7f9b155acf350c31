"""A pass documents all its wins with a few statements, and each win still on its own terms."""

from datetime import date, timedelta

from sqlalchemy import event, func, select

from core.audit.models import JobItemFailure
from core.base import Consent, Direction
from core.documentation.bulk import SettledFacts
from core.documentation.service import document_pending
from core.drafts import sandbox
from core.drafts.models import Draft, MessageTemplate
from core.goals.detection import detect
from core.goals.models import Achievement, Goal
from core.outbox.models import Delivery
from core.records import render
from core.records.facts import gather_many
from core.records.models import SuccessRecord
from core.repository.models import RepositoryEntry
from tests import factories as f

RISING = [48, 52, 49, 51, 50, 47, 53, 50, 49, 51, 52, 48, 50, 51, 56, 57, 58]


def _wins(session, owner, count: int, *, name: str = "Customer", goal: str = "Grow users"):
    """`count` customers whose weekly active users just reached their goal."""
    f.metric(session, "weekly_active_users", Direction.HIGHER, "users")
    goals = []
    for i in range(count):
        cust = f.customer(
            session,
            owner=owner,
            name=f"{name} {i}" if count > 1 else name,
            industry="healthcare",
            consent=Consent.FULL_PUBLIC,
            use_case="Support automation",
            customer_since=date(2023, 2, 1),
            contacts=("Dana Ortiz", "Lee Chen"),
        )
        f.feedback(
            session,
            cust,
            when=f.NOW - timedelta(days=20),
            score=10,
            comment="The automation rules gave my team back a full day every week.",
        )
        goals.append(
            f.goal(
                session,
                cust,
                metric_key="weekly_active_users",
                target=55,
                baseline=45,
                name=goal,
            )
        )
        f.observe(session, cust, "weekly_active_users", RISING)
    detect(session=session, now=f.NOW)
    return goals


def _statements(session, action) -> tuple[int, object]:
    count = 0

    def seen(*_):
        nonlocal count
        count += 1

    connection = session.connection()
    event.listen(connection, "before_cursor_execute", seen)
    try:
        result = action()
    finally:
        event.remove(connection, "before_cursor_execute", seen)
    return count, result


def _count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_the_statements_of_a_pass_do_not_grow_with_its_wins(session):
    owner = f.csm(session)
    _wins(session, owner, 2, name="Small")
    few, counts = _statements(session, lambda: document_pending(session=session, now=f.NOW))
    assert counts == {"documented": 2}

    _wins(session, owner, 7, name="Large")
    many, counts = _statements(session, lambda: document_pending(session=session, now=f.NOW))
    assert counts == {"documented": 7}

    assert many == few
    # Every win got every artefact: record, entry, Slack message and Doc, email draft.
    assert _count(session, SuccessRecord) == _count(session, RepositoryEntry) == 9
    assert _count(session, Delivery) == 18 and _count(session, Draft) == 9


def test_the_email_template_is_compiled_once_for_all_the_wins_of_a_pass(session):
    _wins(session, f.csm(session), 4)
    sandbox._compiled.cache_clear()

    assert document_pending(session=session, now=f.NOW) == {"documented": 4}

    calls = sandbox._compiled.cache_info()
    assert (calls.misses, calls.hits) == (2, 6)  # the subject and the body, once each


def test_a_win_counts_the_similar_wins_documented_before_it_in_the_same_pass(session):
    goals = _wins(session, f.csm(session), 3)
    document_pending(session=session, now=f.NOW)

    stmt = select(Achievement.marketing_reasons).join(Goal, Goal.id == Achievement.goal_id)
    novelty = {
        reason
        for goal in goals
        for reason in session.scalar(stmt.where(Goal.id == goal.id))
        if "novelty" in reason
    }
    assert novelty == {
        "+10 novelty (0 similar wins in the repository)",
        "+6 novelty (1 similar win in the repository)",
        "+6 novelty (2 similar wins in the repository)",
    }


def test_a_win_the_database_refuses_fails_alone_with_the_databases_reason(session):
    owner = f.csm(session)
    good = _wins(session, owner, 3, name="Fine")
    # Its record's title (name: goal) is too long for its column; a short email subject lets it
    # be prepared, so its chunk fails to write and is written again win by win.
    f.add(
        session,
        MessageTemplate(
            key="congratulations_email", name="Congratulations", subject="Well done", body="Hi"
        ),
    )
    [bad] = _wins(session, owner, 1, name="N" * 200, goal="G" * 150)

    assert document_pending(session=session, now=f.NOW) == {"documented": 3}

    documented = session.scalars(
        select(Achievement.goal_id).join(
            SuccessRecord, SuccessRecord.achievement_id == Achievement.id
        )
    )
    assert set(documented) == {g.id for g in good}
    [failure] = session.scalars(select(JobItemFailure))
    assert failure.item_type == "win"
    assert failure.reason.startswith("The database refused it: value too long")
    # Nothing of the failed win was kept.
    achievement = session.scalar(select(Achievement).where(Achievement.goal_id == bad.id))
    assert achievement.marketing_score is None
    assert session.scalar(select(Draft).where(Draft.related_id == achievement.id)) is None


def test_a_win_failing_on_two_counts_fails_as_documenting_it_alone_would(session):
    """Its title is too long for its column and so is its email subject: the title comes first."""
    owner = f.csm(session)
    _wins(session, owner, 2, name="Fine")
    _wins(session, owner, 1, name="N" * 200, goal="G" * 150)

    assert document_pending(session=session, now=f.NOW) == {"documented": 2}

    [failure] = session.scalars(select(JobItemFailure))
    assert failure.reason.startswith("The database refused it: value too long")


def test_settled_facts_read_and_render_as_the_facts_they_were_made_from(session):
    owner = f.csm(session)
    _wins(session, owner, 2, name="Settled")
    ids = list(session.scalars(select(Achievement.id)))
    plain_ones = gather_many(session=session, achievement_ids=ids)
    assert len(plain_ones) == 2

    for plain in plain_ones.values():
        settled = SettledFacts.of(plain)
        for _ in range(2):  # kept values read the same the second time
            assert (settled.result, settled.improvement, settled.beyond_target) == (
                plain.result,
                plain.improvement,
                plain.beyond_target,
            )
            assert settled.days_to_achieve == plain.days_to_achieve
        assert settled.as_dict() == plain.as_dict()
        for rendering in (render.markdown, render.doc_blocks, render.slack_announcement):
            assert rendering(settled) == rendering(plain)
