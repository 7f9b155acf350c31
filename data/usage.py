"""Which metrics each customer reports and how each series behaves over the year.

One `Series` per (customer, metric) holds what PostgreSQL needs to expand it into daily values
(see data.observations): the level a year ago, where the year ends relative to it, a multi-day
gap, and the events goals and upsells ask for (`Shape`): a lift (a step when it arrives within
days, a ramp when it takes weeks), a lone spike, a quiet stretch without random outliers. Day
indices count from the first day of the year before `as_of` (0) to its last (DAYS - 1); older
upsells need data from before that year (negative indices), and a customer who left stops
reporting (`stop`).
"""

import random
import uuid
from dataclasses import dataclass

from data.catalog import HIGHER, METRIC, METRICS
from data.people import Account

DAYS = 365
ALWAYS = "weekly_active_users"  # every customer reports it all year
PERCENT_CEILING = 92.0  # the highest share a series climbs to


@dataclass
class Shape:
    """What a goal or an upsell asks of one series (defaults: nothing special)."""

    flat: bool = False  # no yearly trend: the lift or spike is the story
    level: float | None = None  # start from this level instead of a drawn one
    lift: float = 0.0  # relative change (negative: down) that stays once it arrived
    lift_at: int = DAYS  # day it starts
    lift_days: int = 1  # days it takes to arrive in full: 1-3 a step, weeks a ramp
    blip: float = 1.0  # multiplier of a lone spike
    blip_at: int = DAYS
    blip_days: int = 0
    calm_from: int = DAYS  # no random outliers from this day on
    owner: str = "goal"  # "upsell" shapes win over goal shapes on the same series
    since: int = 0  # first day with data: earlier for an older upsell's baseline, later for a
    # metric only an upsell measures (reported from a few weeks before its close)


@dataclass
class Series:
    sid: int
    customer_id: uuid.UUID
    metric_key: str
    base: float
    ratio: float  # level at the end of the year / level at the start
    gap_start: int = 0
    gap_len: int = 0
    shape: Shape | None = None
    first: int = 0  # first day with data (negative: before the year)
    stop: int = DAYS  # first day without data (the customer left)


def _ratio(rng: random.Random, key: str, trend: str) -> float:
    m = METRIC[key]
    up = m.direction == HIGHER
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


def _level(rng: random.Random, account: Account, key: str) -> float:
    """Draw the level a year ago: bigger customers more usage, scores close to their range."""
    m = METRIC[key]
    low, high = m.base
    # A bounded score (CSAT 1-5) keeps to its usual range; a wide draw would pin it at the top.
    jitter = (0.92, 1.06) if m.hi is not None and high * 1.4 > m.hi else (0.7, 1.4)
    return rng.uniform(low, high) * account.scale**m.size_power * rng.uniform(*jitter)


def plan_series(
    rng: random.Random,
    accounts: list[Account],
    shapes: dict[uuid.UUID, dict[str, Shape]],
    stops: dict[uuid.UUID, int],
) -> list[Series]:
    """Return 3-5 series per account, covering the metrics its goals and upsells use.

    `shapes` maps an account to {metric: Shape} for the metrics its goals and upsells measure
    (a shape's `since` says when that series starts); `stops` maps the accounts that left to
    the day they stopped reporting.
    """
    series: list[Series] = []
    for account in accounts:
        wanted: dict[str, Shape | None] = {ALWAYS: None, **shapes.get(account.id, {})}
        size = max(len(wanted), rng.choices((3, 4, 5), (70, 22, 8))[0])
        pool = [m.key for m in METRICS if m.key not in wanted]
        weights = [3 if key in account.industry.focus else 1 for key in pool]
        while len(wanted) < size:
            key = rng.choices(pool, weights)[0]
            weights[pool.index(key)] = 0
            wanted[key] = None
        for key in sorted(wanted):
            shape = wanted[key]
            base = _level(rng, account, key)
            trend = "flat" if shape and shape.flat else _trend(rng, account.health, key)
            s = Series(len(series), account.id, key, base, _ratio(rng, key, trend), shape=shape)
            s.first = shape.since if shape else 0
            s.stop = stops.get(account.id, DAYS)
            if shape and shape.level is not None:
                s.base = shape.level
            if METRIC[key].unit == "%":  # a share stays short of 100%: nobody gets everyone
                ceiling = PERCENT_CEILING / s.base
                s.ratio = min(s.ratio, ceiling)
                if shape and shape.lift > ceiling - 1:
                    shape.lift = max(0.0, ceiling - 1)
            # A pipeline outage: a few days without data (never in a series a goal or an upsell
            # shapes: its story needs every stretch).
            if rng.random() < 0.2 and shape is None:
                s.gap_start, s.gap_len = rng.randint(20, DAYS - 70), rng.randint(3, 9)
            series.append(s)
    series.sort(key=lambda s: (s.customer_id, s.metric_key))  # insert in primary-key order
    return series
