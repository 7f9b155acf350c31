"""Expand every series into daily observations inside PostgreSQL (a year, more for older upsells).

Python copies one row of parameters per series and one row per day into temp tables; SQL does
the rest. Noise, missing days and outliers come from hashing (series, day, seed), so the same
parameters always give the same values without random().

Small runs use one INSERT ... SELECT. Big runs split the work over two cores: a second session,
which touches nothing but its own temp tables, computes each series' rows as binary COPY tuples
and the main transaction loads them with COPY, which writes far less WAL than row-by-row inserts.
Both paths share SERIES_ROWS, so they write identical data.
"""

import math
import struct
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from psycopg.rows import namedtuple_row
from sqlalchemy import Connection

from data.catalog import METRIC
from data.load import copy_rows, driver, rebuilt_afterwards
from data.usage import DAYS, Series, Shape

MISSING = 0.008  # share of single missing days
SPIKES = 0.004  # share of outlier days
TRIANGLE = 6**0.5  # noise is the sum of two uniforms; this scales its spread to one
PIPE_MIN_SERIES = 2_000  # below this a second session costs more than it saves
PG_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)

PARAM_COLUMNS = (
    "sid",
    "customer_id",
    "metric_key",
    "base",
    "amp",
    "saturating",
    "weekend",
    "season",
    "noise",
    "spike",
    "mult",
    "step",
    "lo",
    "hi",
    "gap_start",
    "gap_end",
    "calm_from",
    "first_day",
    "stop_day",
    "lift",
    "lift_at",
    "lift_days",
    "blip",
    "blip_at",
    "blip_days",
)
DAY_COLUMNS = ("i", "day_at", "day_bin", "weekend", "season", "linear", "saturating")
CREATE_TEMP = """
CREATE TEMP TABLE demo_series (
    sid int, customer_id uuid, metric_key text, base float8, amp float8, saturating bool,
    weekend float8, season float8, noise float8, spike float8, mult float8, step numeric,
    lo float8, hi float8, gap_start int, gap_end int, calm_from int, first_day int, stop_day int,
    lift float8, lift_at int, lift_days int, blip float8, blip_at int, blip_days int
) ON COMMIT DROP;
CREATE TEMP TABLE demo_days (
    i int, day_at timestamptz, day_bin bytea, weekend bool, season float8, linear float8,
    saturating float8
) ON COMMIT DROP
"""

# The rows of one series `p` (used laterally). The inner layer hashes (series, day), the middle
# one shapes the value and drops gap days, the outer one rounds. OFFSET 0 keeps a layer from being
# inlined into the next, so the hash and the value are computed once per row; everything that
# depends only on the day comes precomputed from demo_days. A lift moves the level from `lift_at`
# on, in full after `lift_days`; a blip (a deliberate lone spike) is never a missing day.
SERIES_ROWS = """
SELECT day_at, day_bin, round(v * p.mult)::int8 * p.step AS value
FROM (
    SELECT day_at, day_bin, least(p.hi, greatest(p.lo,
        p.base * (1 + p.amp * CASE WHEN p.saturating THEN saturating ELSE linear END)
        * CASE WHEN weekend THEN p.weekend ELSE 1 END
        * (1 - p.season * season)
        * (1 + p.noise * (((h & 65535) + ((h >> 16) & 65535))::float8 * %(unit)s - 1))
        * (1 + p.lift * least(1.0, greatest(0.0, (i - p.lift_at + 1)::float8 / p.lift_days)))
        * CASE WHEN i >= p.blip_at AND i < p.blip_at + p.blip_days THEN p.blip
               WHEN (h >> 48) & 65535 < %(spike_below)s AND i < p.calm_from THEN p.spike
               ELSE 1 END
    )) AS v
    FROM (
        SELECT d.*, hashint8extended(p.sid::int8 * 1000 + d.i, %(seed)s) AS h
        FROM demo_days d WHERE d.i >= p.first_day AND d.i < p.stop_day OFFSET 0
    ) hashed
    WHERE ((h >> 48) & 65535 >= %(missing_below)s
           OR (i >= p.blip_at AND i < p.blip_at + p.blip_days))
      AND NOT (i >= p.gap_start AND i < p.gap_end)
    OFFSET 0
) shaped
"""
COLUMNS = "customer_id, metric_key, observed_at, value, source"
INSERT = f"""
INSERT INTO metric_observations ({COLUMNS})
SELECT p.customer_id, p.metric_key, r.day_at, r.value, 'demo'
FROM demo_series p CROSS JOIN LATERAL ({SERIES_ROWS}) r
"""
# One bytea per series: its rows in COPY's binary tuple format (field count, then length-prefixed
# uuid, text, timestamptz, numeric and text).
BINARY_TUPLES = f"""
SELECT (SELECT string_agg(p.prefix || r.day_bin || int4send(octet_length(r.nb)) || r.nb
                          || %(suffix)s, ''::bytea)
        FROM (SELECT day_bin, numeric_send(value) AS nb FROM ({SERIES_ROWS}) r0) r)
FROM (
    SELECT s.*, '\\x0005'::bytea || int4send(16) || uuid_send(customer_id)
           || int4send(octet_length(convert_to(metric_key, 'UTF8')))
           || convert_to(metric_key, 'UTF8') AS prefix
    FROM demo_series s ORDER BY customer_id, metric_key OFFSET 0
) p
"""
COPY_SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + bytes(8)
COPY_TRAILER = b"\xff\xff"
SOURCE_FIELD = struct.pack("!i", 4) + b"demo"


def _param_rows(series: list[Series]):
    steps = {0: Decimal("1"), 1: Decimal("0.1"), 2: Decimal("0.01")}
    plain = Shape()
    for s in series:
        m = METRIC[s.metric_key]
        shape = s.shape or plain
        yield (
            s.sid,
            s.customer_id,
            s.metric_key,
            s.base,
            s.ratio - 1,
            m.saturating,
            m.weekend,
            m.season,
            m.noise * TRIANGLE,
            m.spike,
            10.0**m.decimals,
            steps[m.decimals],
            m.lo,
            math.inf if m.hi is None else m.hi,
            s.gap_start,
            s.gap_start + s.gap_len,
            shape.calm_from,
            s.first,
            s.stop,
            shape.lift,
            shape.lift_at,
            max(1, shape.lift_days),
            shape.blip,
            shape.blip_at,
            shape.blip_days,
        )


def _day_rows(day0: date, first: int):
    """Per-day factors: weekend flag, summer dip plus holiday lull, and both trend curves.

    Days before the year (`first` < 0, for older upsells) have no trend: the year starts there.
    """
    dow0, doy0 = day0.weekday(), day0.timetuple().tm_yday - 1
    for i in range(min(0, first), DAYS):
        doy = (doy0 + i) % 365
        holiday = 3.0 if doy >= 355 or doy == 0 else 0.0  # the last days of December
        season = math.cos(2 * math.pi * (doy - 214) / 365) + holiday  # lowest in early August
        curve = (1 - math.exp(-3 * max(0, i) / (DAYS - 1))) / (1 - math.exp(-3))
        moment = datetime.combine(day0 + timedelta(days=i), time(0), tzinfo=UTC)
        micros = (moment - PG_EPOCH) // timedelta(microseconds=1)
        binary = struct.pack("!iq", 8, micros)  # a binary COPY timestamptz field
        yield (i, moment, binary, (dow0 + i) % 7 >= 5, season, max(0, i) / (DAYS - 1), curve)


def _prepare(conn, series: list[Series], day0: date) -> None:
    driver(conn).execute(CREATE_TEMP)
    copy_rows(conn, "demo_series", PARAM_COLUMNS, _param_rows(series))
    first = min((s.first for s in series), default=0)
    copy_rows(conn, "demo_days", DAY_COLUMNS, _day_rows(day0, first))


def _helper(conn: Connection):
    """Return a second pooled connection, or None when the pool cannot give a distinct one."""
    try:
        other = conn.engine.raw_connection()
    except Exception:
        return None
    if other.driver_connection is conn.connection.driver_connection:
        other.close()
        return None
    return other


def _piped(conn: Connection, helper, series: list[Series], day0: date, params: dict) -> int:
    """Compute rows in `helper`'s session and COPY them (binary) into the main transaction."""
    side = helper.driver_connection
    try:
        _prepare(side, series, day0)
        statement = f"COPY metric_observations ({COLUMNS}) FROM STDIN (FORMAT binary)"
        with driver(conn).cursor() as cur, side.cursor(binary=True) as reader:
            with cur.copy(statement) as copy:
                copy.write(COPY_SIGNATURE)
                for (chunk,) in reader.stream(BINARY_TUPLES, {**params, "suffix": SOURCE_FIELD}):
                    if chunk:  # a series whose every day fell in a gap has no rows
                        copy.write(chunk)
                copy.write(COPY_TRAILER)
            return cur.rowcount
    finally:
        helper.close()  # the pool rolls the session back, which drops its temp tables


def load_observations(conn: Connection, series: list[Series], *, seed: int, as_of: date) -> int:
    """Expand every series into daily observations ending the day before `as_of`."""
    day0 = as_of - timedelta(days=DAYS)
    params = {
        "unit": 1 / 65535,
        "missing_below": int(MISSING * 65536),
        "spike_below": int((MISSING + SPIKES) * 65536),
        "seed": seed,
    }
    with rebuilt_afterwards(conn, "metric_observations"):
        helper = _helper(conn) if len(series) >= PIPE_MIN_SERIES else None
        if helper is not None:
            count = _piped(conn, helper, series, day0, params)
        else:
            _prepare(conn, series, day0)
            count = conn.connection.driver_connection.execute(INSERT, params).rowcount
    conn.connection.driver_connection.execute("ANALYZE metric_observations")
    return count


PROBE = """
SELECT (SELECT avg(o.value)::float8 FROM metric_observations o
         WHERE o.customer_id = g.customer_id AND o.metric_key = g.metric_key
           AND o.observed_at BETWEEN g.start_at - interval '7 days'
                                 AND g.start_at + interval '7 days') AS level,
       coalesce(
         (SELECT o.value::float8 FROM metric_observations o
           WHERE o.customer_id = g.customer_id AND o.metric_key = g.metric_key
             AND o.observed_at < g.start_at AND o.observed_at >= g.start_at - interval '31 days'
           ORDER BY o.observed_at DESC LIMIT 1),
         (SELECT o.value::float8 FROM metric_observations o
           WHERE o.customer_id = g.customer_id AND o.metric_key = g.metric_key
             AND o.observed_at >= g.start_at
           ORDER BY o.observed_at LIMIT 1)) AS at_start,
       r.*
FROM demo_goal_probe g
CROSS JOIN LATERAL (
    SELECT min(v) FILTER (WHERE at >= %(recent)s) AS recent_lo,
           max(v) FILTER (WHERE at >= %(recent)s) AS recent_hi,
           min(v) FILTER (WHERE at >= g.event_at - interval '30 days' AND at < g.event_at)
             AS pre_lo,
           max(v) FILTER (WHERE at >= g.event_at - interval '30 days' AND at < g.event_at)
             AS pre_hi,
           min(v) FILTER (WHERE at >= g.event_at AND at < g.settled_at) AS mid_lo,
           max(v) FILTER (WHERE at >= g.event_at AND at < g.settled_at) AS mid_hi,
           min(v) FILTER (WHERE at >= g.settled_at) AS post_lo,
           max(v) FILTER (WHERE at >= g.settled_at) AS post_hi,
           percentile_cont(0.2) WITHIN GROUP (ORDER BY v)
             FILTER (WHERE g.spread AND at >= g.settled_at) AS post_q20,
           percentile_cont(0.8) WITHIN GROUP (ORDER BY v)
             FILTER (WHERE g.spread AND at >= g.settled_at) AS post_q80,
           min(v) AS scan_lo, max(v) AS scan_hi
    FROM (SELECT o.observed_at AS at, o.value::float8 AS v FROM metric_observations o
           WHERE o.customer_id = g.customer_id AND o.metric_key = g.metric_key
             AND o.observed_at >= g.scan_from) x
) AS r
ORDER BY g.idx
"""
PROBE_COLUMNS = (
    "idx",
    "customer_id",
    "metric_key",
    "start_at",
    "event_at",
    "settled_at",
    "scan_from",
    "spread",
)


def _midnight(day: date | None) -> datetime | None:
    return None if day is None else datetime.combine(day, time(0), tzinfo=UTC)


def probe(conn: Connection, wanted, *, as_of: date, recent_days: int) -> list:
    """Return what the data around each metric goal looks like, in order.

    `wanted` holds (customer, metric, start day, event day, settled day, scan from, spread) per
    goal (event and settled None without an event). Each row: the level around the start and the
    value at the start (as verification reads it); the min and max of the last `recent_days`
    days, of the 30 days before the event, between the event and the day it settled, after that
    (with its 20th and 80th percentiles when `spread` asks), and of everything from `scan from`.
    Only the days from `scan from` on are read, so a goal asks for the stretch it needs.
    """
    raw = driver(conn)
    raw.execute(
        "CREATE TEMP TABLE demo_goal_probe (idx int, customer_id uuid, metric_key text, "
        "start_at timestamptz, event_at timestamptz, settled_at timestamptz, "
        "scan_from timestamptz, spread bool) ON COMMIT DROP"
    )
    rows = (
        (i, cid, key, *(_midnight(d) for d in days), spread)
        for i, (cid, key, *days, spread) in enumerate(wanted)
    )
    copy_rows(conn, "demo_goal_probe", PROBE_COLUMNS, rows)
    recent = _midnight(as_of - timedelta(days=recent_days))
    with raw.cursor(row_factory=namedtuple_row) as cur:
        return cur.execute(PROBE, {"recent": recent}).fetchall()
