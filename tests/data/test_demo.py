"""The demo data generator: shape and realism of what it writes."""

from datetime import timedelta

import pytest
from jinja2.sandbox import SandboxedEnvironment

from data import demo
from tests.data.helpers import AS_OF, CUSTOMERS, JOB_TABLES, one, rows


@pytest.fixture
def counts(connection):
    return demo.generate(connection, customers=CUSTOMERS, seed=4, as_of=AS_OF)


def test_counts_match_the_tables_and_fall_in_range(connection, counts):
    for table, count in counts.items():
        assert one(connection, f"SELECT count(*) FROM {table}") == count, table
    assert counts["users"] == 16
    assert counts["customers"] == CUSTOMERS
    assert counts["metrics"] == 8 and counts["products"] == 6 and counts["success_templates"] == 6
    assert counts["message_templates"] == 3
    assert counts["industry_benchmarks"] >= 8 * 3
    assert CUSTOMERS <= counts["customer_contacts"] <= 3 * CUSTOMERS
    # a year per series, more for the customers of older upsells (from before their close)
    assert 3 * CUSTOMERS * 340 <= counts["metric_observations"] <= 5 * CUSTOMERS * 600
    assert CUSTOMERS <= counts["success_plans"] <= 2 * CUSTOMERS
    assert 2.5 * CUSTOMERS <= counts["goals"] <= 4.5 * CUSTOMERS
    assert 2 * CUSTOMERS <= counts["customer_feedback"] <= 6 * CUSTOMERS
    assert counts["upsells"] == round(0.2 * CUSTOMERS) + round(0.3 * CUSTOMERS)
    assert counts["upsell_measurements"] == round(0.2 * CUSTOMERS)  # the older ones, planned
    assert counts["goal_achievements"] == counts["success_records"] > 0  # past wins, documented
    for table in JOB_TABLES:
        assert one(connection, f"SELECT count(*) FROM {table}") == 0, table


def test_past_wins_emails_and_stories_are_history_not_work(connection, counts):
    wins = counts["goal_achievements"]
    assert counts["drafts"] == wins  # every past win's customer has a contact
    decided = dict(rows(connection, "SELECT status, count(*) FROM drafts GROUP BY status"))
    assert set(decided) == {"sent", "rejected"} and decided["sent"] > 0.7 * wins
    assert one(connection, "SELECT count(*) FROM drafts WHERE decided_at >= :day", day=AS_OF) == 0
    unrelated = """SELECT count(*) FROM drafts d WHERE NOT EXISTS
                     (SELECT 1 FROM goal_achievements a WHERE a.id = d.related_id)"""
    assert one(connection, unrelated) == 0
    assert (
        one(
            connection,
            "SELECT count(*) FROM drafts WHERE status = 'rejected' AND rejected_reason IS NULL",
        )
        == 0
    )
    flags = dict(rows(connection, "SELECT status, count(*) FROM marketing_flags GROUP BY 1"))
    assert set(flags) <= {"contacted", "used"} and flags.get("used", 0) > 0
    outside = """SELECT count(*) FROM marketing_flags f JOIN goal_achievements a
                   ON a.id = f.achievement_id
                  WHERE NOT f.candidate_type::text = ANY(a.marketing_candidates)"""
    assert one(connection, outside) == 0


def test_staff_and_customers_look_like_a_real_book(connection, counts):
    roles = dict(rows(connection, "SELECT role, count(*) FROM users GROUP BY role"))
    assert roles == {"csm": 8, "leader": 2, "marketing": 2, "admin": 1, "sales": 3}
    assert one(connection, "SELECT bool_and(email LIKE '%@outcomes.example') FROM users")
    assert one(
        connection, "SELECT bool_and(slack_user_id LIKE 'U0%') FROM users WHERE role = 'csm'"
    )
    assert one(connection, "SELECT count(DISTINCT industry) FROM customers") >= 8
    assert {s for (s,) in rows(connection, "SELECT DISTINCT segment FROM customers")} == {
        "smb",
        "mid_market",
        "enterprise",
    }
    assert one(connection, "SELECT count(DISTINCT region) FROM customers") == 4
    consent = rows(
        connection, "SELECT consent_level FROM customers GROUP BY 1 ORDER BY count(*) DESC"
    )
    assert consent[0][0] == "internal_only" and len(consent) == 4
    bad = one(
        connection,
        "SELECT count(*) FROM customers WHERE crm_id NOT LIKE '001%' OR length(crm_id) <> 18 "
        "OR health_score NOT BETWEEN 0 AND 100 OR use_case IS NULL OR external_id IS NULL "
        "OR customer_since NOT BETWEEN :old AND :recent "
        "OR (segment = 'smb' AND arr > 60000) OR (segment = 'enterprise' AND arr < 250000)",
        old=AS_OF - timedelta(days=6 * 365 + 2),
        recent=AS_OF - timedelta(days=365),
    )
    assert bad == 0
    assert one(connection, "SELECT count(DISTINCT name) FROM customers") == CUSTOMERS
    primaries = rows(
        connection,
        "SELECT count(*), sum(is_primary::int) FROM customer_contacts GROUP BY customer_id",
    )
    assert len(primaries) == CUSTOMERS
    assert all(1 <= n <= 3 and p == 1 for n, p in primaries)


def test_catalogue_templates_and_benchmarks(connection, counts):
    kinds = {k for (k,) in rows(connection, "SELECT DISTINCT kind FROM metrics")}
    assert kinds == {"usage", "adoption", "roi", "satisfaction", "outcome"}
    assert one(connection, "SELECT is_money FROM metrics WHERE key = 'cost_savings'")
    assert (
        one(connection, "SELECT direction FROM metrics WHERE key = 'ticket_resolution_hours'")
        == "lower_is_better"
    )
    days = [d for (d,) in rows(connection, "SELECT checkpoint_days FROM success_templates")]
    assert [30, 60, 90, 180] in days and days.count([30, 60, 90]) == 5
    for (criteria,) in rows(connection, "SELECT metrics FROM success_templates"):
        for c in criteria:
            assert {
                "name",
                "metricKey",
                "type",
                "unit",
                "target",
                "direction",
                "measurement",
            } <= set(c)
            assert c["measurement"] in ("automatic", "manual")
    assert one(
        connection,
        "SELECT bool_and(CASE WHEN m.direction = 'lower_is_better' THEN b.top_quartile < b.median "
        "ELSE b.top_quartile > b.median END) FROM industry_benchmarks b JOIN metrics m "
        "ON m.key = b.metric_key",
    )
    env = SandboxedEnvironment()
    subject, body = rows(
        connection,
        "SELECT subject, body FROM message_templates WHERE key = 'congratulations_email'",
    )[0]
    values = {
        "customer_name": "Acme",
        "goal_name": "Cut resolution time",
        "result": "Done.",
        "csm_name": "Maya Patel",
    }
    rendered = env.from_string(subject).render(values) + env.from_string(body).render(values)
    assert all(v in rendered for v in values.values())
    assert (
        one(connection, "SELECT count(*) FROM message_templates WHERE key = 'review_summary'") == 1
    )


def test_a_year_of_daily_observations_with_gaps_and_outliers(connection, counts):
    first, last, source = rows(
        connection,
        "SELECT min(d), max(d), string_agg(DISTINCT source, ',') FROM"
        " (SELECT (observed_at AT TIME ZONE 'UTC')::date AS d, source FROM metric_observations) o",
    )[0]
    assert last == AS_OF - timedelta(days=1)
    assert first < AS_OF - timedelta(days=365)  # older upsells need data from before their close
    assert source == "demo"
    # A customer without an older upsell reports a year; the metrics an older upsell measures
    # start 45 days before its close (or a year ago, whichever is earlier).
    starts = rows(
        connection,
        "SELECT (min(o.observed_at) AT TIME ZONE 'UTC')::date, min(u.close_date) FILTER "
        "(WHERE m.id IS NOT NULL) FROM metric_observations o LEFT JOIN upsells u "
        "ON u.customer_id = o.customer_id LEFT JOIN upsell_measurements m ON m.upsell_id = u.id "
        "GROUP BY o.customer_id",
    )
    for start, close in starts:
        expected = AS_OF - timedelta(days=365)
        if close is not None:
            expected = min(expected, close - timedelta(days=45))
        assert start == expected
    per_customer = [
        n
        for (n,) in rows(
            connection,
            "SELECT count(DISTINCT metric_key) FROM metric_observations GROUP BY customer_id",
        )
    ]
    # 3-5 metrics, more when a customer's goals and upsell criteria need them
    assert len(per_customer) == CUSTOMERS and all(3 <= n <= 8 for n in per_customer)
    gaps, outages = rows(
        connection,
        "SELECT count(*) FILTER (WHERE step > interval '1 day'),"
        " count(*) FILTER (WHERE step > interval '2 days') FROM ("
        " SELECT observed_at - lag(observed_at) OVER w AS step FROM metric_observations"
        " WINDOW w AS (PARTITION BY customer_id, metric_key ORDER BY observed_at)) s",
    )[0]
    assert gaps > 0 and outages > 0  # single missing days and multi-day outages
    spikes = one(
        connection,
        "SELECT count(*) FROM (SELECT value, lag(value) OVER w AS before,"
        " lead(value) OVER w AS after"
        " FROM metric_observations WINDOW w AS (PARTITION BY customer_id, metric_key"
        " ORDER BY observed_at)) s WHERE value > 1.8 * (before + after) / 2",
    )
    assert spikes >= 1
    assert one(connection, "SELECT bool_and(value = round(value, 2)) FROM metric_observations")
    assert one(
        connection,
        "SELECT bool_and(o.value BETWEEN 0 AND 100) FROM metric_observations o "
        "JOIN metrics m ON m.key = o.metric_key WHERE m.unit = '%'",
    )


def test_goals_of_every_type_ready_for_detection(connection, counts):
    types = dict(rows(connection, "SELECT type, count(*) FROM goals GROUP BY type"))
    assert set(types) == {"success_plan", "kpi", "onboarding", "roi", "custom"}
    # active, reached in the past (documented then), or cancelled when the customer left
    statuses = {s for (s,) in rows(connection, "SELECT DISTINCT status FROM goals")}
    assert statuses <= {"active", "achieved", "cancelled"} and "active" in statuses
    assert one(
        connection,
        "SELECT bool_and((g.status = 'achieved') = (a.id IS NOT NULL)) FROM goals g "
        "LEFT JOIN goal_achievements a ON a.goal_id = g.id",
    )
    assert (
        one(
            connection,
            "SELECT count(*) FROM goals g JOIN metrics m ON m.key = g.metric_key "
            "WHERE g.direction <> m.direction OR g.unit <> m.unit "
            "OR g.baseline IS NULL OR g.target IS NULL",
        )
        == 0
    )
    roi = rows(connection, "SELECT metric_key, cost, target FROM goals WHERE type = 'roi'")
    assert roi and all(k == "cost_savings" and 0 < c < t for k, c, t in roi)
    assert (
        one(
            connection,
            "SELECT count(*) FROM goals WHERE type = 'custom' AND metric_key IS NOT NULL",
        )
        == 0
    )
    assert one(connection, "SELECT count(*) FROM goals WHERE due_date < :d", d=AS_OF) > 0
    plan_goals = rows(
        connection,
        "SELECT g.id, count(m.id), count(m.id) FILTER (WHERE m.status = 'done') FROM goals g "
        "JOIN milestones m ON m.goal_id = g.id AND m.plan_id = g.plan_id "
        "WHERE g.type = 'success_plan' GROUP BY g.id",
    )
    assert len(plan_goals) == types["success_plan"]
    assert any(n == done for _, n, done in plan_goals)  # some plans fully delivered
    assert any(n > done for _, n, done in plan_goals)
    onboarding = rows(
        connection,
        "SELECT g.metric_key, count(m.id) FROM goals g LEFT JOIN milestones m ON m.goal_id = g.id "
        "WHERE g.type = 'onboarding' GROUP BY g.id, g.metric_key",
    )
    assert all(key in (None, "onboarding_completion") for key, _ in onboarding)
    assert all(key or n for key, n in onboarding)  # a checklist, a metric or both
    assert (
        one(
            connection,
            "SELECT count(*) FROM goals WHERE name = '' OR description IS NULL OR use_case IS NULL",
        )
        == 0
    )


def test_a_share_of_metric_goals_is_met_in_the_last_two_weeks(connection, counts):
    met, total = rows(
        connection,
        """
        SELECT count(*) FILTER (WHERE held AND crossed), count(*) FROM (
            SELECT bool_and(CASE WHEN g.direction = 'higher_is_better' THEN o.value >= g.target
                                 ELSE o.value <= g.target END) AS held,
                   bool_and(CASE WHEN g.direction = 'higher_is_better' THEN g.baseline < g.target
                                 ELSE g.baseline > g.target END) AS crossed
            FROM goals g JOIN metric_observations o
              ON o.customer_id = g.customer_id AND o.metric_key = g.metric_key
             AND o.observed_at >= :since
            GROUP BY g.id) s
        """,
        since=AS_OF - timedelta(days=14),
    )[0]
    assert total >= CUSTOMERS
    assert 0.2 <= met / total <= 0.6  # roughly 40% by design


def test_feedback_comes_from_contacts_with_real_comments(connection, counts):
    per = [
        n
        for (n,) in rows(connection, "SELECT count(*) FROM customer_feedback GROUP BY customer_id")
    ]
    assert len(per) == CUSTOMERS and all(2 <= n <= 6 for n in per)
    assert (
        one(
            connection,
            "SELECT count(*) FROM customer_feedback "
            "WHERE (kind = 'nps' AND score NOT BETWEEN 0 AND 10) "
            "OR (kind = 'csat' AND score NOT BETWEEN 1 AND 5) OR coalesce(comment, '') = '' "
            "OR responded_at NOT BETWEEN :start AND :end",
            start=AS_OF - timedelta(days=366),
            end=AS_OF,
        )
        == 0
    )
    assert (
        one(
            connection,
            "SELECT count(*) FROM customer_feedback f "
            "JOIN customer_contacts c ON c.id = f.contact_id "
            "WHERE c.customer_id <> f.customer_id OR c.name <> f.respondent_name "
            "OR c.title IS DISTINCT FROM f.respondent_title",
        )
        == 0
    )
    assert one(connection, "SELECT count(DISTINCT comment) FROM customer_feedback") > CUSTOMERS


def test_current_upsells_wait_for_a_plan_and_older_ones_have_ended(connection, counts):
    bad = one(
        connection,
        """
        SELECT count(*) FROM upsells u LEFT JOIN upsell_measurements m ON m.upsell_id = u.id
        WHERE u.arr_increase < 0
           OR (m.id IS NULL AND u.close_date NOT BETWEEN :recent AND :end)
           OR (m.id IS NOT NULL AND u.close_date NOT BETWEEN :old AND :recent_old)
           OR u.opportunity_id NOT LIKE '006%' OR length(u.opportunity_id) <> 18
           OR u.type NOT IN ('expansion', 'upsell', 'cross_sell')
           OR u.source NOT IN ('salesforce', 'manual')
           OR u.arr_increase <> (SELECT sum(p.arr) FROM upsell_products p WHERE p.upsell_id = u.id)
           OR (SELECT count(*) FROM upsell_products p WHERE p.upsell_id = u.id) NOT IN (1, 2)
           OR u.sales_rep_email NOT IN (SELECT email FROM users WHERE role = 'sales')
        """,
        recent=AS_OF - timedelta(days=183),
        end=AS_OF,
        old=AS_OF - timedelta(days=546),
        recent_old=AS_OF - timedelta(days=120),
    )
    assert bad == 0
    assert one(connection, "SELECT count(DISTINCT customer_id) FROM upsells") == counts["upsells"]
    # An older plan ended before as_of: completed, with every checkpoint prepared.
    assert one(
        connection,
        "SELECT bool_and(m.status = 'completed' AND c.status IN ('reviewed', 'skipped') "
        "AND c.due_on < :d) FROM upsell_measurements m JOIN checkpoints c "
        "ON c.measurement_id = m.id",
        d=AS_OF,
    )


def test_references_hang_together(connection, counts):
    assert (
        one(
            connection,
            "SELECT count(*) FROM customers c LEFT JOIN users u ON u.id = c.owner_csm_id "
            "WHERE u.role IS DISTINCT FROM 'csm'",
        )
        == 0
    )
    assert (
        one(
            connection,
            "SELECT count(*) FROM goals g LEFT JOIN success_plans p ON p.id = g.plan_id "
            "WHERE g.plan_id IS NOT NULL AND p.customer_id IS DISTINCT FROM g.customer_id",
        )
        == 0
    )
    assert (
        one(
            connection,
            "SELECT count(*) FROM milestones m JOIN success_plans p ON p.id = m.plan_id "
            "JOIN goals g ON g.id = m.goal_id WHERE g.customer_id <> p.customer_id",
        )
        == 0
    )
    assert (
        one(
            connection,
            "SELECT count(*) FROM milestones WHERE (status = 'done') <> (completed_at IS NOT NULL)",
        )
        == 0
    )
    assert (
        one(
            connection,
            "SELECT count(*) FROM goals g LEFT JOIN metric_observations o ON o.customer_id = "
            "g.customer_id AND o.metric_key = g.metric_key WHERE g.metric_key IS NOT NULL "
            "AND o.customer_id IS NULL",
        )
        == 0
    )
