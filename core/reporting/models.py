"""Tables the reports keep for themselves: figures stored by a job so pages need not derive them."""

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from core.base import Base, tz


class GoalFirstReach(Base):
    """When a metric goal without a win first held its target, as found by the last refresh.

    One row per metric goal the refresh read (`core.reporting.unrecorded`); `reached_at` is NULL
    when its observations never held the target long enough. Readers use a row only while the
    goal and its series are unchanged since the refresh's watermark and before `valid_until`,
    and derive the rest.
    """

    __tablename__ = "goal_first_reach"

    goal_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("goals.id", ondelete="CASCADE"), primary_key=True
    )
    reached_at: Mapped[datetime | None] = mapped_column(tz(), nullable=True)
    checked_at: Mapped[datetime] = mapped_column(tz())  # when the refresh read the goal
    # The series' first observation dated after `checked_at` (sent ahead of its time), if any:
    # from then on the refresh's reading is incomplete and readers derive the goal again.
    valid_until: Mapped[datetime | None] = mapped_column(tz(), nullable=True)
