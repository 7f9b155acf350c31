"""Which metrics each customer reports and how each series behaves over the year.

One `Series` per (customer, metric) holds what PostgreSQL needs to expand it into daily values
(see data.observations): the level a year ago, where the year ends relative to it, a multi-day
gap, and whether the series backs a goal that the data should show as met.
"""

import random
import uuid
from dataclasses import dataclass

from data.catalog import HIGHER, METRIC, METRICS
from data.people import Account

DAYS = 365


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
        size = max(len(wanted), rng.choices((3, 4, 5), (70, 22, 8))[0])
        pool = [m.key for m in METRICS if m.key not in wanted]
        weights = [3 if key in account.industry.focus else 1 for key in pool]
        while len(wanted) < size:
            key = rng.choices(pool, weights)[0]
            weights[pool.index(key)] = 0
            wanted[key] = False
        for key in sorted(wanted):
            m = METRIC[key]
            low, high = m.base
            base = rng.uniform(low, high) * (account.scale**m.size_power * rng.uniform(0.7, 1.4))
            trend = "forced" if wanted[key] else _trend(rng, account.health, key)
            s = Series(
                len(series), account.id, key, base, _ratio(rng, key, trend), calm=wanted[key]
            )
            if rng.random() < 0.2:  # a pipeline outage: a few days without data
                s.gap_start, s.gap_len = rng.randint(20, DAYS - 70), rng.randint(3, 9)
            series.append(s)
    series.sort(key=lambda s: (s.customer_id, s.metric_key))  # insert in primary-key order
    return series
