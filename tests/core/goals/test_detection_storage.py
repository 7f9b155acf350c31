"""The goals table keeps room on its pages so a pass's evaluation stamps stay HOT updates."""

from sqlalchemy import text

from core.goals.models import Goal

OPTIONS = text("SELECT reloptions FROM pg_class WHERE oid = 'goals'::regclass")
# Every index on goals that names evaluated_at: as a key column, in an expression or a predicate.
COVERING = text(
    """
    SELECT i.indexrelid::regclass::text
      FROM pg_index i
     WHERE i.indrelid = 'goals'::regclass
       AND (EXISTS (SELECT 1 FROM pg_attribute a
                     WHERE a.attrelid = i.indrelid AND a.attname = 'evaluated_at'
                       AND a.attnum = ANY(i.indkey))
            OR coalesce(pg_get_expr(i.indexprs, i.indrelid), '') LIKE '%evaluated_at%'
            OR coalesce(pg_get_expr(i.indpred, i.indrelid), '') LIKE '%evaluated_at%')
    """
)


def test_goal_pages_are_filled_to_half(session):
    assert "fillfactor=50" in session.scalar(OPTIONS)


def test_the_model_states_the_same_fillfactor():
    assert Goal.__table__.dialect_options["postgresql"]["with"] == {"fillfactor": 50}


def test_no_index_covers_the_evaluation_stamp(session):
    # A stamp that changed an indexed column could never be a HOT update.
    assert session.scalars(COVERING).all() == []
