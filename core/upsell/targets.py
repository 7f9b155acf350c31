"""Draft what a plan aims for: its success criteria, checkpoint days, baselines and targets.

Criteria come from (a) the success templates of the products and (b) the success criteria stated
on the opportunity (`parse_criterion`). Baselines average the metric's observations in the
BASELINE_DAYS before close, for every upsell in one query (`baselines_at_close`). Each target then
follows the rules of `core.upsell.target_rules`: relative to the baseline by the template's uplift
for the customer's segment, blended with what similar confirmed upsells reached by day
REACHED_DAY (`reached_by_day`, one query), floored beyond the baseline and capped by the industry
benchmark; it records its `target_source` and a plain-words `target_explanation`. Each criterion
records its `origin` (template or stated). What could not be done becomes a plan note.
"""

import re
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.orm import Session

from core.base import Direction
from core.upsell.target_rules import (
    MIN_HISTORY,
    REACHED_DAY,
    Benchmark,
    NoTarget,
    Peers,
    derive_target,
    segment_words,
    stated_target,
)

DEFAULT_DAYS = (30, 60, 90)
BASELINE_DAYS = 14

BASELINES = text(
    """
    SELECT k.customer_id, k.metric_key, k.close_date, round(avg(o.value), 4) AS value
    FROM unnest(CAST(:customers AS uuid[]), CAST(:keys AS text[]), CAST(:closes AS date[]))
         AS k(customer_id, metric_key, close_date)
    JOIN metric_observations o ON o.customer_id = k.customer_id AND o.metric_key = k.metric_key
     AND o.observed_at >= (k.close_date - CAST(:days AS int))::timestamp AT TIME ZONE 'UTC'
     AND o.observed_at < k.close_date::timestamp AT TIME ZONE 'UTC'
    GROUP BY k.customer_id, k.metric_key, k.close_date
    """
)
# What similar upsells reached: plans whose outcome a person confirmed, per product, segment and
# metric, in the week ending on day REACHED_DAY; the change is taken from each plan's own baseline
# in the metric's direction (a cut counts as positive when lower is better).
REACHED = text(
    """
    WITH done AS (
        SELECT m.id, m.customer_id, m.started_on, c.segment, p.product_code
        FROM upsell_measurements m
        JOIN upsell_outcomes oc ON oc.measurement_id = m.id
         AND oc.status IS NOT NULL AND oc.status <> 'no_decision'
        JOIN customers c ON c.id = m.customer_id
        JOIN upsell_products p ON p.upsell_id = m.upsell_id
        WHERE p.product_code = ANY(CAST(:products AS text[]))
    ), reached AS (
        SELECT d.product_code, d.segment, mm.metric_key, d.id, avg(o.value) AS value,
               CASE WHEN min(mm.baseline) > 0 THEN
                    (avg(o.value) - min(mm.baseline)) / min(mm.baseline)
                    * CASE WHEN min(k.direction) = 'lower_is_better' THEN -1 ELSE 1 END
               END AS uplift
        FROM done d
        JOIN measurement_metrics mm ON mm.measurement_id = d.id AND mm.metric_key IS NOT NULL
        JOIN metrics k ON k.key = mm.metric_key
        JOIN metric_observations o ON o.customer_id = d.customer_id
         AND o.metric_key = mm.metric_key
         AND o.observed_at >= (d.started_on + CAST(:lo AS int))::timestamp AT TIME ZONE 'UTC'
         AND o.observed_at < (d.started_on + CAST(:hi AS int))::timestamp AT TIME ZONE 'UTC'
        GROUP BY d.product_code, d.segment, mm.metric_key, d.id
    )
    SELECT product_code, segment, NULL AS metric_key, count(DISTINCT id) AS n,
           NULL::numeric AS level, 0 AS n_uplift, NULL::numeric AS uplift
    FROM done GROUP BY product_code, segment
    UNION ALL
    SELECT product_code, segment, metric_key, count(*),
           round(CAST(percentile_cont(0.5) WITHIN GROUP (ORDER BY value) AS numeric), 4),
           count(uplift),
           round(CAST(percentile_cont(0.5) WITHIN GROUP (ORDER BY uplift) AS numeric), 4)
    FROM reached GROUP BY product_code, segment, metric_key
    """
)


def note(kind: str, text_: str, **extra) -> dict:
    """Return a plan note (one entry of `upsell_measurements.plan_notes`)."""
    return {"kind": kind, "text": text_, **extra}


@dataclass
class Draft:
    """The criteria, checkpoint days and notes worked out for one upsell's plan."""

    metrics: dict[str, dict] = field(default_factory=dict)
    rules: dict[str, dict] = field(default_factory=dict)  # what each target is worked out from
    days: set[int] = field(default_factory=set)
    notes: list[dict] = field(default_factory=list)


# Stated success criteria -------------------------------------------------------------------
# Simple forms only: a metric named by a keyword plus an absolute number ("reach 80% adoption",
# "save 40 hours a week", "resolution time under 8 hours") or a relative change ("cut resolution
# time by 30%", "in half", "double"), resolved against the baseline. Anything else is kept as a
# manual criterion carrying the sentence itself.
_KEYWORDS = (
    ("adoption", "feature_adoption"),
    ("onboarding", "onboarding_completion"),
    ("active users", "weekly_active_users"),
    ("automation runs", "automation_runs"),
    ("resolution", "ticket_resolution_hours"),
    ("csat", "csat"),
    ("cost savings", "cost_savings"),
    ("hours a week", "time_saved_hours"),
    ("hours per week", "time_saved_hours"),
)
_TIME = re.compile(r"\b(?:day|week|month|quarter)\s+\d+|\d+\s*(?:days?|weeks?|months?|quarters?)\b")
_RELATIVE = re.compile(r"\bby (\d+(?:\.\d+)?)\s*%|\bin half\b|\bdouble")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_LOWER = re.compile(r"\b(?:cut|reduce|lower|decrease|shrink)")
MANUAL_CRITERION = {
    "metric_key": None,
    "type": "outcome",
    "unit": "met",
    "target": Decimal(1),
    "direction": Direction.HIGHER.value,
    "measurement": "manual",
}


def criteria_sentences(stated: str | None) -> list[str]:
    """Split stated success criteria into sentences (at most 120 characters each)."""
    parts = re.split(r"(?<=[.;!?])\s+|\n+", stated or "")
    return [p.strip().rstrip(".;").strip()[:120] for p in parts if p.strip().rstrip(".;").strip()]


def parse_criterion(sentence: str, catalog) -> dict:
    """Return the criterion a sentence states: automatic when it is a simple form, else manual."""
    low = sentence.lower()
    key = next((k for word, k in _KEYWORDS if word in low and k in catalog), None)
    if key is None:
        return {**MANUAL_CRITERION, "origin": "stated"}
    metric = catalog[key]
    spec = {
        "metric_key": key,
        "type": metric.kind,
        "unit": metric.unit,
        "origin": "stated",
        "direction": metric.direction,
        "measurement": "automatic",
    }
    rest = _TIME.sub(" ", low)
    if found := _RELATIVE.search(rest):
        if found.group(1):
            change = Decimal(found.group(1)) / 100
            return {**spec, "factor": 1 - change if _LOWER.search(rest) else 1 + change}
        return {**spec, "factor": Decimal("0.5") if "in half" in found.group(0) else Decimal(2)}
    number = _NUMBER.search(rest)
    if number is None or (metric.unit == "%" and Decimal(number.group(0)) > 100):
        return {**MANUAL_CRITERION, "origin": "stated"}
    return {**spec, "target": Decimal(number.group(0))}


# Drafting -------------------------------------------------------------------------------------


def reached_by_day(*, session: Session, products: list[str]) -> dict:
    """Return {(product, segment): {"plans": n, "metrics": {key: Peers}}} at REACHED_DAY."""
    found: dict = defaultdict(lambda: {"plans": 0, "metrics": {}})
    params = {"products": sorted(set(products)), "lo": REACHED_DAY - 6, "hi": REACHED_DAY + 1}
    for row in session.execute(REACHED, params):
        group = found[(row.product_code, row.segment)]
        if row.metric_key is None:
            group["plans"] = row.n
        else:
            group["metrics"][row.metric_key] = Peers(
                uplift_plans=row.n_uplift, uplift=row.uplift, level_plans=row.n, level=row.level
            )
    return dict(found)


def baselines_at_close(*, session: Session, wanted) -> dict:
    """Return {(customer id, metric key, close date): average of the BASELINE_DAYS before}."""
    wanted = list(wanted)
    if not wanted:
        return {}
    found = session.execute(
        BASELINES,
        {
            "customers": [c for c, _, _ in wanted],
            "keys": [k for _, k, _ in wanted],
            "closes": [d for _, _, d in wanted],
            "days": BASELINE_DAYS,
        },
    )
    return {(r.customer_id, r.metric_key, r.close_date): r.value for r in found}


@dataclass
class _Lookups:
    catalog: dict
    templates: dict
    benchmarks: dict
    history: dict


def _lookups(session: Session, targets) -> _Lookups:
    codes = sorted({c for t in targets for c in t.products})
    templates = session.execute(
        text("SELECT * FROM success_templates WHERE product_code = ANY(:c)"), {"c": codes}
    )
    benchmarks = session.execute(
        text("SELECT * FROM industry_benchmarks WHERE lower(industry) = ANY(:i)"),
        {"i": sorted({t.industry.lower() for t in targets})},
    )
    return _Lookups(
        catalog={r.key: r for r in session.execute(text("SELECT * FROM metrics"))},
        templates={r.product_code: r for r in templates},
        benchmarks={
            (r.industry.lower(), r.segment, r.metric_key): Benchmark(
                industry=r.industry,
                segment=r.segment,
                median=r.median,
                top_quartile=r.top_quartile,
            )
            for r in benchmarks
        },
        history=reached_by_day(session=session, products=codes),
    )


def _from_templates(t, look: _Lookups, draft: Draft) -> None:
    removed, planned = set(t.removed_metrics or ()), set(t.planned_products or ())
    for code in [c for c in t.products if c not in planned]:
        template = look.templates.get(code)
        if template is None:
            draft.notes.append(note("no_template", f"{code} has no success template."))
            continue
        draft.days |= set(template.checkpoint_days or DEFAULT_DAYS)
        history = look.history.get((code, t.segment), {"plans": 0, "metrics": {}})
        if history["plans"] < MIN_HISTORY:
            draft.notes.append(
                note(
                    "history",
                    f"Similar upsells not used for {code}: {history['plans']} confirmed with "
                    f"{segment_words(t.segment)} customers (fewer than {MIN_HISTORY}).",
                    product=code,
                )
            )
        for raw in template.metrics:
            name, key = raw["name"], raw.get("metricKey")
            if name in draft.metrics or name in removed:
                continue
            draft.metrics[name] = {
                "name": name,
                "metric_key": key,
                "type": raw["type"],
                "unit": raw["unit"],
                "direction": raw["direction"],
                "origin": "template",
                "measurement": raw.get("measurement") or ("automatic" if key else "manual"),
            }
            draft.rules[name] = {
                "raw": raw,
                "benchmark": look.benchmarks.get((t.industry.lower(), t.segment, key)),
                "peers": history["metrics"].get(key),
            }


def _baselines(session: Session, targets, drafts: dict) -> None:
    """Snapshot every automatic criterion's baseline in one query; note the missing ones."""
    found = baselines_at_close(
        session=session,
        wanted=[
            (t.customer_id, s["metric_key"], t.close_date)
            for t in targets
            for s in drafts[t.upsell_id].metrics.values()
            if s["measurement"] == "automatic"
        ],
    )
    for t in targets:
        draft = drafts[t.upsell_id]
        for spec in draft.metrics.values():
            spec["baseline"] = found.get((t.customer_id, spec["metric_key"], t.close_date))
            if spec["measurement"] == "automatic" and spec["baseline"] is None:
                draft.notes.append(
                    note(
                        "baseline_missing",
                        f"{spec['name']}: no {spec['metric_key']} data in the "
                        f"{BASELINE_DAYS} days before close; baseline left empty.",
                        metric=spec["name"],
                    )
                )


def _target(t, spec: dict, rule: dict):
    """Return the criterion's target under the rules (a stated one or a template one)."""
    if "raw" in rule:
        return derive_target(
            name=spec["name"],
            unit=spec["unit"],
            direction=spec["direction"],
            baseline=spec["baseline"],
            segment=t.segment,
            raw=rule["raw"],
            manual=spec["measurement"] == "manual",
            benchmark=rule["benchmark"],
            peers=rule["peers"],
        )
    factor = rule.get("factor")
    if factor is not None and not (spec["baseline"] or 0) > 0:
        spec.update(MANUAL_CRITERION)  # a change from nothing: a person confirms it
        factor = None
    return stated_target(
        name=spec["name"],
        unit=spec["unit"],
        direction=spec["direction"],
        baseline=spec["baseline"],
        target=spec.get("target"),
        factor=factor,
    )


def _targets(t, draft: Draft) -> None:
    """Give every criterion its target, source and explanation; leave out those without one."""
    for name, spec in list(draft.metrics.items()):
        try:
            found = _target(t, spec, draft.rules.get(name, {}))
        except NoTarget as exc:
            del draft.metrics[name]
            draft.notes.append(note("target_missing", str(exc), metric=name))
            continue
        spec["target"] = found.value
        spec["target_source"] = found.source.value
        spec["target_explanation"] = found.explanation


def draft_plans(*, session: Session, targets) -> dict[uuid.UUID, Draft]:
    """Work out each upsell's criteria, days and notes (for a re-plan: its new products only)."""
    look = _lookups(session, targets)
    drafts = {}
    for t in targets:
        draft = drafts[t.upsell_id] = Draft()
        _from_templates(t, look, draft)
        for sentence in criteria_sentences(t.stated_criteria) if t.measurement_id is None else ():
            if sentence not in draft.metrics:
                parsed = parse_criterion(sentence, look.catalog)
                draft.rules[sentence] = {"factor": parsed.pop("factor", None)}
                draft.metrics[sentence] = {"name": sentence, **parsed}
        draft.days = draft.days or set(DEFAULT_DAYS)
    _baselines(session, targets, drafts)
    for t in targets:
        _targets(t, drafts[t.upsell_id])
    return drafts
