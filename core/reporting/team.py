"""The team's headlines for the leaders' landing: wins of the last days against the days before."""

from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.base import Role
from core.documentation.queries import achievement_conditions
from core.documentation.schemas import AchievementFilters
from core.goals.models import AchievementStatus
from core.reporting.landing_schemas import TeamHeadlines, Window
from core.reporting.wins import _wins, wins_overview

WINDOW_DAYS = 30


def windows(today: date, days: int) -> tuple[Window, Window]:
    """Return the `days` days ending `today` and the `days` days before them."""
    current = Window(first=today - timedelta(days=days - 1), last=today)
    before = current.first - timedelta(days=1)
    return current, Window(first=before - timedelta(days=days - 1), last=before)


def wins_between(*, session: Session, first: date, last: date) -> int:
    """Count the team's verified wins achieved from `first` to `last`, as the Wins page does."""
    filters = AchievementFilters(
        status=AchievementStatus.VERIFIED, achieved_from=first, achieved_to=last
    )
    # The Wins page's own row set, counted: its success metrics are not needed for a count.
    wins = _wins(achievement_conditions(filters))
    return session.scalar(select(func.count()).select_from(wins)) or 0


def team_headlines(*, session: Session, today: date, viewer: Role) -> TeamHeadlines:
    """Return the whole team's wins of the last WINDOW_DAYS days and of the days before."""
    current, previous = windows(today, WINDOW_DAYS)
    now = wins_overview(session=session, date_from=current.first, date_to=today, viewer=viewer)
    before = wins_between(session=session, first=previous.first, last=previous.last)
    return TeamHeadlines(
        current_window=current,
        previous_window=previous,
        wins=now.wins,
        previous_wins=before,
        money_wins=now.money_wins,
        value=float(now.value),
        capture=next((m for m in now.metrics if m.key == "capture"), None),
    )
