"""Detection writes however many wins it finds, and one goal that cannot be checked stays alone."""

from datetime import timedelta

from sqlalchemy import func, select, text

from core.audit.models import JobItemFailure
from core.base import Direction
from core.goals.detection import detect
from core.goals.models import Achievement, AchievementStatus, Goal, GoalStatus
from tests import factories as f

WINS = 20_000
CUSTOMERS = 200

CUSTOMERS_SQL = text(
    """
    INSERT INTO customers (id, name, industry, segment, region, arr, consent_level)
    SELECT gen_random_uuid(), 'Scale customer ' || n, 'software', 'smb', 'NA', 10000,
           'full_public'
      FROM generate_series(1, :n) AS n
    """
)
GOALS_SQL = text(
    """
    INSERT INTO goals (id, customer_id, type, name, metric_key, baseline, target, direction,
                       start_date, status)
    SELECT gen_random_uuid(), c.id, 'kpi', 'Scale goal ' || g, :metric, 45, 55,
           'higher_is_better', :start, 'active'
      FROM customers c CROSS JOIN generate_series(1, :per_customer) AS g
     WHERE c.name LIKE 'Scale customer %'
    """
)
OBSERVATIONS_SQL = text(
    """
    INSERT INTO metric_observations (customer_id, metric_key, observed_at, value, source)
    SELECT c.id, :metric, CAST(:last AS timestamptz) - make_interval(days => 3 - d.i),
           (ARRAY[50, 56, 57, 58])[d.i + 1], 'test'
      FROM customers c CROSS JOIN generate_series(0, 3) AS d(i)
     WHERE c.name LIKE 'Scale customer %'
    """
)


def test_a_pass_with_20000_new_wins_records_them_all(session):
    """One INSERT of 20,000 achievements would need 300,000 parameters (psycopg: 65,535)."""
    f.metric(session, "weekly_active_users", Direction.HIGHER, "users")
    session.execute(CUSTOMERS_SQL, {"n": CUSTOMERS})
    params = {"metric": "weekly_active_users", "start": f.NOW.date() - timedelta(days=30)}
    session.execute(GOALS_SQL, params | {"per_customer": WINS // CUSTOMERS})
    last = f.NOW - timedelta(hours=6)
    session.execute(OBSERVATIONS_SQL, {"metric": "weekly_active_users", "last": last})

    created = detect(session=session, now=f.NOW)

    assert len(created) == WINS
    verified = select(func.count()).where(Achievement.status == AchievementStatus.VERIFIED)
    assert session.scalar(verified) == WINS
    achieved = select(func.count()).where(Goal.status == GoalStatus.ACHIEVED)
    assert session.scalar(achieved) == WINS
    unevaluated = select(func.count()).where(Goal.evaluated_at.is_(None))
    assert session.scalar(unevaluated) == 0
    assert session.scalar(select(func.count()).select_from(JobItemFailure)) == 0


def _rising_goal(session, name: str, **verification):
    cust = f.customer(session, name=name)
    f.metric(session, "weekly_active_users", Direction.HIGHER, "users")
    goal = f.goal(
        session,
        cust,
        metric_key="weekly_active_users",
        target=55,
        baseline=45,
        verification=verification,
    )
    f.observe(session, cust, "weekly_active_users", [50, 56, 57, 58])
    return goal


def _failures(session):
    stmt = select(JobItemFailure).order_by(JobItemFailure.item_id)
    return session.scalars(stmt.execution_options(populate_existing=True)).all()


def test_a_goal_that_cannot_be_checked_is_recorded_and_the_others_are_detected(session):
    good = _rising_goal(session, "Good Data Inc")
    broken = _rising_goal(session, "Broken Rules Ltd", consecutive="three")

    created = detect(session=session, now=f.NOW)

    assert len(created) == 1
    assert session.scalar(select(Achievement.goal_id).where(Achievement.id == created[0])) == (
        good.id
    )
    [failure] = _failures(session)
    assert (failure.item_type, failure.item_id) == ("goal", str(broken.id))
    assert failure.failure_count == 1 and failure.reason
    session.refresh(broken)
    assert broken.evaluated_at is None  # read again next time

    detect(session=session, now=f.NOW + timedelta(minutes=5))
    [failure] = _failures(session)
    assert failure.failure_count == 2

    broken.verification = {}
    session.flush()
    assert len(detect(session=session, now=f.NOW + timedelta(minutes=10))) == 1
    assert _failures(session) == []
    session.refresh(broken)
    assert broken.status == GoalStatus.ACHIEVED


def test_an_achievement_that_cannot_be_written_fails_alone(session):
    """A chunk that fails is retried one goal at a time: only the unwritable one is left out."""
    good = _rising_goal(session, "Good Data Inc")
    cust = f.customer(session, name="Tiny Baseline Ltd")
    f.metric(session, "api_calls", Direction.HIGHER, "calls")
    # From 0.0001 to 58 trillion: an improvement the achievement's Numeric(18, 4) cannot hold.
    huge = f.goal(session, cust, metric_key="api_calls", target=55e12, baseline="0.0001")
    f.observe(session, cust, "api_calls", [1, 56e12, 57e12, 58e12])

    created = detect(session=session, now=f.NOW)

    goals = session.scalars(select(Achievement.goal_id).where(Achievement.id.in_(created))).all()
    assert goals == [good.id]
    [failure] = _failures(session)
    assert (failure.item_type, failure.item_id) == ("goal", str(huge.id))
    assert failure.reason.startswith("The database refused it:")
    session.refresh(huge)
    assert huge.status == GoalStatus.ACTIVE and huge.evaluated_at is None
