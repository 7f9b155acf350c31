"""The team's headlines count the wins of each window exactly as the Wins page does."""

from datetime import date, timedelta

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from core.base import Role
from core.goals.models import Achievement
from core.reporting.team import WINDOW_DAYS, team_headlines, windows, wins_between
from core.reporting.wins import wins_overview


@pytest.fixture
def demo(demo_url):
    engine = create_engine(demo_url)
    with Session(engine) as session:
        yield session
    engine.dispose()


def _latest_win(session: Session) -> date:
    return session.scalar(select(func.max(Achievement.achieved_at))).date()


def test_each_window_counts_the_wins_the_wins_page_shows(demo):
    last = _latest_win(demo)
    counted = 0
    for today in (last, last - timedelta(days=WINDOW_DAYS), last - timedelta(days=75)):
        current, previous = windows(today, WINDOW_DAYS)
        for window in (current, previous):
            page = wins_overview(session=demo, date_from=window.first, date_to=window.last)
            found = wins_between(session=demo, first=window.first, last=window.last)
            assert found == page.wins, (today, window)
            counted += found
        headlines = team_headlines(session=demo, today=today, viewer=Role.LEADER)
        shown = wins_overview(session=demo, date_from=previous.first, date_to=previous.last)
        assert headlines.previous_wins == shown.wins
    assert counted, "the demo has wins in these windows, so the comparison means something"
