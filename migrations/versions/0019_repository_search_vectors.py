"""repository search vectors: a stored, name-free text vector and the customer's name, indexed

Revision ID: 0019
Revises: 0017
Create Date: 2026-11-30

Search used to replace hidden customers' names in every entry's text inside the query and build
a tsvector on the fly for each row. Each entry now stores:

- `search_text`: its title, snippet, industry and use case with every name of its customer (the
  current one and the one its success record was written under) replaced by `{customer}`, so it
  never holds a name;
- `search_name`: its customer's current name, which search adds only while consent allows
  naming the customer (checked live on every search, so a consent change needs no rebuild).

Triggers keep both current for every writer: an entry written or changed, a customer renamed,
a success record written after its entry. The generated `search` column (raw texts, which could
hold a hidden customer's name) goes; both new columns get a GIN index, and entries an index in
their listing order (newest first, then id). Existing rows are backfilled.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import TSVECTOR

revision: str = "0019"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ENTRIES = "value_repository_entries"
TEXT_INDEX = "ix_value_repository_entries_search_text"
NAME_INDEX = "ix_value_repository_entries_search_name"
NEWEST_INDEX = "ix_value_repository_entries_newest"
DATE_INDEX = "ix_value_repository_entries_achieved_on"
OLD_INDEX = "ix_value_repository_entries_search"
OLD_SEARCH = (
    "setweight(to_tsvector('english'::regconfig, coalesce(title, '')), 'A') || "
    "setweight(to_tsvector('english'::regconfig, coalesce(snippet, '')), 'B') || "
    "setweight(to_tsvector('english'::regconfig, "
    "coalesce(industry, '') || ' ' || coalesce(use_case, '')), 'C')"
)

FUNCTIONS = r"""
CREATE FUNCTION repository_redacted(body text, names text[]) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  -- Whole-word, case-insensitive; the longest name first ("Acme Health Inc" before "Acme").
  SELECT CASE WHEN alternatives IS NULL THEN body
              ELSE regexp_replace(body, '(?<!\w)(' || alternatives || ')(?!\w)', '{customer}', 'gi')
         END
    FROM (SELECT string_agg(regexp_replace(n, '([][\\.^$*+?(){}|-])', '\\\1', 'g'), '|'
                            ORDER BY length(n) DESC, n) AS alternatives
            FROM (SELECT DISTINCT trim(x) AS n FROM unnest(names) AS x
                   WHERE trim(x) <> '') AS given) AS pattern
$$;

CREATE FUNCTION repository_search_text(
  title text, snippet text, industry text, use_case text, names text[]
) RETURNS tsvector LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT setweight(to_tsvector('english'::regconfig,
                               coalesce(repository_redacted(title, names), '')), 'A')
      || setweight(to_tsvector('english'::regconfig,
                               coalesce(repository_redacted(snippet, names), '')), 'B')
      || setweight(to_tsvector('english'::regconfig, coalesce(industry, '') || ' '
                               || coalesce(repository_redacted(use_case, names), '')), 'C')
$$;

CREATE FUNCTION repository_search_name(name text) RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT setweight(to_tsvector('english'::regconfig, coalesce(name, '')), 'A')
$$;

CREATE FUNCTION value_repository_entries_search() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  current_name text;
  recorded_name text;
BEGIN
  SELECT c.name INTO current_name FROM customers c WHERE c.id = NEW.customer_id;
  SELECT r.sections->>'customer_name' INTO recorded_name
    FROM success_records r WHERE r.achievement_id = NEW.achievement_id;
  NEW.search_text := repository_search_text(
    NEW.title, NEW.snippet, NEW.industry, NEW.use_case, ARRAY[current_name, recorded_name]);
  NEW.search_name := repository_search_name(current_name);
  RETURN NEW;
END $$;

-- A customer renamed, or a record written after its entry: recompute through the entry's own
-- trigger (setting a column it watches), so the vectors are built in one place.
CREATE FUNCTION customers_repository_search() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE value_repository_entries SET title = title WHERE customer_id = NEW.id;
  RETURN NULL;
END $$;

CREATE FUNCTION success_records_repository_search() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE value_repository_entries SET title = title WHERE achievement_id = NEW.achievement_id;
  RETURN NULL;
END $$;
"""

TRIGGERS = """
CREATE TRIGGER value_repository_entries_search
  BEFORE INSERT OR UPDATE OF title, snippet, industry, use_case, customer_id, achievement_id
  ON value_repository_entries FOR EACH ROW EXECUTE FUNCTION value_repository_entries_search();

CREATE TRIGGER customers_repository_search
  AFTER UPDATE OF name ON customers FOR EACH ROW
  WHEN (OLD.name IS DISTINCT FROM NEW.name)
  EXECUTE FUNCTION customers_repository_search();

CREATE TRIGGER success_records_repository_search_insert
  AFTER INSERT ON success_records FOR EACH ROW
  WHEN (NEW.sections ? 'customer_name')
  EXECUTE FUNCTION success_records_repository_search();

CREATE TRIGGER success_records_repository_search_update
  AFTER UPDATE OF sections, achievement_id ON success_records FOR EACH ROW
  WHEN (OLD.sections->>'customer_name' IS DISTINCT FROM NEW.sections->>'customer_name'
        OR OLD.achievement_id IS DISTINCT FROM NEW.achievement_id)
  EXECUTE FUNCTION success_records_repository_search();
"""

BACKFILL = "UPDATE value_repository_entries SET title = title"

DROPPED = """
DROP TRIGGER success_records_repository_search_update ON success_records;
DROP TRIGGER success_records_repository_search_insert ON success_records;
DROP TRIGGER customers_repository_search ON customers;
DROP TRIGGER value_repository_entries_search ON value_repository_entries;
DROP FUNCTION success_records_repository_search();
DROP FUNCTION customers_repository_search();
DROP FUNCTION value_repository_entries_search();
DROP FUNCTION repository_search_name(text);
DROP FUNCTION repository_search_text(text, text, text, text, text[]);
DROP FUNCTION repository_redacted(text, text[]);
"""


def upgrade() -> None:
    op.drop_index(OLD_INDEX, table_name=ENTRIES, postgresql_using="gin")
    op.drop_column(ENTRIES, "search")
    op.add_column(ENTRIES, sa.Column("search_text", TSVECTOR(), nullable=True))
    op.add_column(ENTRIES, sa.Column("search_name", TSVECTOR(), nullable=True))
    op.execute(FUNCTIONS)
    op.execute(TRIGGERS)
    op.execute(BACKFILL)
    op.alter_column(ENTRIES, "search_text", nullable=False)
    op.alter_column(ENTRIES, "search_name", nullable=False)
    op.create_index(TEXT_INDEX, ENTRIES, ["search_text"], postgresql_using="gin")
    op.create_index(NAME_INDEX, ENTRIES, ["search_name"], postgresql_using="gin")
    # Newest first with the id breaking ties: what listings and a search's walk read in order.
    op.drop_index(DATE_INDEX, table_name=ENTRIES)
    op.create_index(NEWEST_INDEX, ENTRIES, [sa.text("achieved_on DESC"), "id"])


def downgrade() -> None:
    op.drop_index(NEWEST_INDEX, table_name=ENTRIES)
    op.create_index(DATE_INDEX, ENTRIES, ["achieved_on"])
    op.drop_index(NAME_INDEX, table_name=ENTRIES, postgresql_using="gin")
    op.drop_index(TEXT_INDEX, table_name=ENTRIES, postgresql_using="gin")
    op.execute(DROPPED)
    op.drop_column(ENTRIES, "search_name")
    op.drop_column(ENTRIES, "search_text")
    op.add_column(
        ENTRIES,
        sa.Column("search", TSVECTOR(), sa.Computed(OLD_SEARCH, persisted=True), nullable=True),
    )
    op.create_index(OLD_INDEX, ENTRIES, ["search"], postgresql_using="gin")
