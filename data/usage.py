"""A year of daily metric observations, generated inside PostgreSQL from per-series parameters.

Python decides one row of parameters per (customer, metric) series: level a year ago, where the
year ends relative to it, weekly and yearly rhythm, noise, outlier size and gaps. One INSERT ...
SELECT then expands every series over 365 days. Noise comes from hashing (series, day, seed), so
the same parameters always give the same values without a random() call.
"""

import math
import random
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import Connection

from data.catalog import HIGHER, METRIC, METRICS
from data.load import copy_rows, rebuilt_afterwards
from data.people import Account

DAYS = 365
MISSING = 0.008  # share of single missing days
SPIKES = 0.004  # share of outlier days
CALM_DAYS = 42  # series behind a goal that is being met: no outliers in the last six weeks
TRIANGLE = 6**0.5  # noise is the sum of two uniforms, whose spread this scales to one


@dataclass
class Series:
    sid: int
    customer_id: uuid.UUID
    metric_key: str
    base: float
    ratio: float  # level at the end of the year / level at the start
    gap_start: int = 0
    gap_len: int = 0
    calm: bool = False


def _ratio(rng: random.Random, key: str, trend: str) -> float:
    m = METRIC[key]
    up = m.direction == HIGHER
    if trend == "forced":
        return 1 + m.swing * rng.uniform(0.55, 1.0) if up else 1 - m.swing * rng.uniform(0.75, 1.0)
    if trend == "improve":
        return 1 + m.swing * rng.uniform(0.2, 1.0) if up else 1 - m.swing * rng.uniform(0.3, 0.9)
    if trend == "decline":
        return (
            1 - min(0.5, m.swing * rng.uniform(0.1, 0.35))
            if up
            else 1 + m.swing * rng.uniform(0.2, 0.7)
        )
    return 1 + rng.uniform(-0.04, 0.04)


def _trend(rng: random.Random, health: float, key: str) -> str:
    improve, flat = (0.85, 0.12) if health >= 72 else (0.6, 0.3) if health >= 45 else (0.25, 0.35)
    if key == "onboarding_completion":  # completion never falls back
        return "improve" if rng.random() < improve + flat / 2 else "flat"
    return rng.choices(("improve", "flat", "decline"), (improve, flat, 1 - improve - flat))[0]


def plan_series(
    rng: random.Random, accounts: list[Account], needed: dict[uuid.UUID, dict[str, bool]]
) -> list[Series]:
    """Return 3-5 series per account, covering the metrics its goals use.

    `needed` maps an account to {metric: goal should be met}; met goals get a strong trend in the
    good direction so the data crosses the target and stays there.
    """
    series: list[Series] = []
    for account in accounts:
        wanted = {"weekly_active_users": False, **needed.get(account.id, {})}
        size = max(len(wanted), rng.choices((3, 4, 5), (45, 35, 20))[0])
        pool = [m.key for m in METRICS if m.key not in wanted]
        weights = [3 if key in account.industry.focus else 1 for key in pool]
        while len(wanted) < size:
            key = rng.choices(pool, weights)[0]
            weights[pool.index(key)] = 0
            wanted[key] = False
        for key in sorted(wanted):
            m = METRIC[key]
            low, high = m.base
            base = rng.uniform(low, high) * (
                account.scale * rng.uniform(0.7, 1.4) if m.scaled else 1
            )
            trend = "forced" if wanted[key] else _trend(rng, account.health, key)
            s = Series(
                len(series), account.id, key, base, _ratio(rng, key, trend), calm=wanted[key]
            )
            if rng.random() < 0.2:  # a pipeline outage: a few days without data
                s.gap_start, s.gap_len = rng.randint(20, DAYS - 70), rng.randint(3, 9)
            series.append(s)
    series.sort(key=lambda s: (s.customer_id, s.metric_key))  # insert in primary-key order
    return series


PARAM_COLUMNS = (
    "sid", "customer_id", "metric_key", "base", "amp", "saturating", "weekend", "season",
    "noise", "spike", "mult", "step", "lo", "hi", "gap_start", "gap_end", "calm_from",
)  # fmt: skip
DAY_COLUMNS = ("i", "day_at", "weekend", "season", "linear", "saturating")

CREATE_TEMP = """
CREATE TEMP TABLE demo_series (
    sid int, customer_id uuid, metric_key text, base float8, amp float8, saturating bool,
    weekend float8, season float8, noise float8, spike float8, mult float8, step numeric,
    lo float8, hi float8, gap_start int, gap_end int, calm_from int
) ON COMMIT DROP;
CREATE TEMP TABLE demo_days (
    i int, day_at timestamptz, weekend bool, season float8, linear float8, saturating float8
) ON COMMIT DROP
"""

# The inner query hashes (series, day); the middle one shapes the value and drops gap days; the
# outer one rounds. OFFSET 0 stops the planner from inlining a layer into the next, so the hash
# and the value are computed once per row. Everything per-day (timestamp, weekday, season, trend
# curve) comes from the 365-row demo_days table instead of being recomputed per row, and the
# lateral join keeps series-major order, which is the primary key's order.
INSERT_OBSERVATIONS = """
INSERT INTO metric_observations (customer_id, metric_key, observed_at, value, source)
SELECT customer_id, metric_key, day_at, round(v * mult)::int8 * step, 'demo'
FROM (
    SELECT customer_id, metric_key, day_at, mult, step, least(hi, greatest(lo,
        base * (1 + amp * CASE WHEN saturating THEN d_saturating ELSE linear END)
        * CASE WHEN d_weekend THEN weekend ELSE 1 END
        * (1 - season * d_season)
        * (1 + noise * (((h & 65535) + ((h >> 16) & 65535))::float8 * %(unit)s - 1))
        * CASE WHEN (h >> 48) & 65535 < %(spike_below)s AND i < calm_from THEN spike ELSE 1 END
    )) AS v
    FROM (
        SELECT p.*, d.i, d.day_at, d.weekend AS d_weekend, d.season AS d_season, d.linear,
               d.saturating AS d_saturating,
               hashint8extended(p.sid::int8 * 1000 + d.i, %(seed)s) AS h
        FROM demo_series p
        CROSS JOIN LATERAL (SELECT * FROM demo_days WHERE i < p.calm_from + %(days)s) d
        OFFSET 0
    ) hashed
    WHERE (h >> 48) & 65535 >= %(missing_below)s AND NOT (i >= gap_start AND i < gap_end)
    OFFSET 0
) shaped
"""


def _param_rows(series: list[Series]):
    steps = {0: Decimal("1"), 1: Decimal("0.1"), 2: Decimal("0.01")}
    for s in series:
        m = METRIC[s.metric_key]
        yield (
            s.sid, s.customer_id, s.metric_key, s.base, s.ratio - 1, m.saturating, m.weekend,
            m.season, m.noise * TRIANGLE, m.spike, 10.0**m.decimals, steps[m.decimals], m.lo,
            math.inf if m.hi is None else m.hi, s.gap_start, s.gap_start + s.gap_len,
            DAYS - CALM_DAYS if s.calm else DAYS,
        )  # fmt: skip


def _day_rows(day0: date):
    """Per-day factors: weekend flag, summer dip plus holiday lull, and both trend curves."""
    dow0, doy0 = day0.weekday(), day0.timetuple().tm_yday - 1
    for i in range(DAYS):
        doy = (doy0 + i) % 365
        holiday = 3.0 if doy >= 355 or doy == 0 else 0.0  # the last days of December
        season = math.cos(2 * math.pi * (doy - 214) / 365) + holiday  # lowest in early August
        curve = (1 - math.exp(-3 * i / (DAYS - 1))) / (1 - math.exp(-3))
        moment = datetime.combine(day0 + timedelta(days=i), time(0), tzinfo=UTC)
        yield (i, moment, (dow0 + i) % 7 >= 5, season, i / (DAYS - 1), curve)


def load_observations(conn: Connection, series: list[Series], *, seed: int, as_of: date) -> int:
    """Expand every series into daily observations ending the day before `as_of`."""
    raw = conn.connection.driver_connection
    raw.execute(CREATE_TEMP)
    copy_rows(conn, "demo_series", PARAM_COLUMNS, _param_rows(series))
    copy_rows(conn, "demo_days", DAY_COLUMNS, _day_rows(as_of - timedelta(days=DAYS)))
    params = {
        "unit": 1 / 65535,
        "missing_below": int(MISSING * 65536),
        "spike_below": int((MISSING + SPIKES) * 65536),
        "days": DAYS,
        "seed": seed,
    }
    with rebuilt_afterwards(conn, "metric_observations"):
        count = raw.execute(INSERT_OBSERVATIONS, params).rowcount
    raw.execute("ANALYZE metric_observations")
    return count


PROBE = """
SELECT g.idx,
       (SELECT avg(o.value)::float8 FROM metric_observations o
         WHERE o.customer_id = g.customer_id AND o.metric_key = g.metric_key
           AND o.observed_at BETWEEN g.start_at - interval '7 days'
                                 AND g.start_at + interval '7 days'),
       r.lo, r.hi
FROM demo_goal_probe g
CROSS JOIN LATERAL (
    SELECT min(o.value)::float8, max(o.value)::float8 FROM metric_observations o
     WHERE o.customer_id = g.customer_id AND o.metric_key = g.metric_key
       AND o.observed_at >= %(recent)s
) AS r(lo, hi)
ORDER BY g.idx
"""


def probe(
    conn: Connection, wanted: list[tuple[uuid.UUID, str, date]], *, as_of: date, recent_days: int
) -> list[tuple[float | None, float | None, float | None]]:
    """Return (level around start, recent min, recent max) per (customer, metric, start)."""
    raw = conn.connection.driver_connection
    raw.execute(
        "CREATE TEMP TABLE demo_goal_probe (idx int, customer_id uuid, metric_key text, "
        "start_at timestamptz) ON COMMIT DROP"
    )
    rows = (
        (i, cid, key, datetime.combine(start, time(0), tzinfo=UTC))
        for i, (cid, key, start) in enumerate(wanted)
    )
    copy_rows(conn, "demo_goal_probe", ("idx", "customer_id", "metric_key", "start_at"), rows)
    recent = datetime.combine(as_of - timedelta(days=recent_days), time(0), tzinfo=UTC)
    result = raw.execute(PROBE, {"recent": recent}).fetchall()
    return [(base, lo, hi) for _, base, lo, hi in result]
