"""Marketing potential of a win: an explainable 0–100 score, its reasons and candidate flags.

The score adds points for what makes a story worth telling, then scales by consent and subtracts
for fatigue:

| part | points |
|---|---|
| size: 30 × improvement over baseline (max 15) + 40 × beyond target (max 10) | 0–25 |
| quantified money value: ≥ $100k 15, ≥ $25k 10, any 5 | 0–15 |
| goal type: roi 10, kpi 8, success plan 5, onboarding 4, custom 3 | 3–10 |
| sentiment: latest NPS promoter (9–10) or CSAT 5 → 15, passive / CSAT 4 → 8, none yet 5 | 0–15 |
| health score ÷ 10 | 0–10 |
| tenure: ≥ 2 years 5, ≥ 1 year 3, newer 1 | 1–5 |
| a positive quote ready to use 10, some comment 4 | 0–10 |
| novelty: the repository's wins for this industry + use case — none 10, ≤ 2 6, ≤ 5 3 | 0–10 |

The sum (max 100) is multiplied by consent — full public 1.0, logo 0.9, anonymized 0.7, internal
only 0.4 — and 10 points come off for each marketing ask of this customer in the last 90 days
(max 30): the fatigue ledger. The result is clamped to 0–100.

Candidate flags: **case study** (score ≥ 65, full public consent, money value or ≥ 10% beyond
target), **testimonial** (a positive quote, consent logo or wider), **reference** (health ≥ 70,
a promoter, consent logo or wider), **social proof** (score ≥ 45, consent anonymized or wider —
the numbers can be shown without the name).
"""

from dataclasses import dataclass
from datetime import date

from core.goals.schemas import A_GOAL

CONSENT_FACTOR = {"full_public": 1.0, "logo": 0.9, "anonymized": 0.7, "internal_only": 0.4}
CONSENT_RANK = {"internal_only": 0, "anonymized": 1, "logo": 2, "full_public": 3}
GOAL_TYPE_POINTS = {"roi": 10, "kpi": 8, "success_plan": 5, "onboarding": 4, "custom": 3}
# "KPI goal", "success-plan goal": the goal's own words without their article.
GOAL_TYPE_WORDS = {kind.value: words.split(" ", 1)[1] for kind, words in A_GOAL.items()}
FATIGUE_PER_ASK, FATIGUE_MAX = 10, 30


@dataclass(frozen=True)
class ScoreInputs:
    improvement: float | None
    beyond_target: float | None
    money_value: float | None
    goal_type: str
    nps: int | None
    csat: int | None
    health: float | None
    customer_since: date | None
    as_of: date
    quote_ready: bool
    any_comment: bool
    similar_wins: int
    consent: str
    asks_last_90_days: int


@dataclass(frozen=True)
class Score:
    value: int
    reasons: list[str]
    candidates: list[str]


def score(i: ScoreInputs) -> Score:
    """Score a win and say why, part by part."""
    parts: list[tuple[float, str]] = []
    size = min(15.0, 30 * max(0.0, i.improvement or 0)) + min(
        10.0, 40 * max(0.0, i.beyond_target or 0)
    )
    parts.append((size, "size of the result"))
    money = 0
    if i.money_value is not None:
        money = 15 if i.money_value >= 100_000 else 10 if i.money_value >= 25_000 else 5
    parts.append((money, "quantified money value"))
    goal_words = GOAL_TYPE_WORDS.get(i.goal_type, "custom goal")
    parts.append((GOAL_TYPE_POINTS.get(i.goal_type, 3), goal_words))
    parts.append((_sentiment(i), "customer sentiment (NPS/CSAT)"))
    parts.append((max(0.0, min(10.0, (i.health or 0) / 10)), "account health"))
    parts.append((_tenure(i), "tenure"))
    parts.append((10 if i.quote_ready else 4 if i.any_comment else 0, _quote_words(i)))
    novelty = (
        10 if i.similar_wins == 0 else 6 if i.similar_wins <= 2 else 3 if i.similar_wins <= 5 else 0
    )
    similar = f"{i.similar_wins} similar win{'' if i.similar_wins == 1 else 's'}"
    parts.append((novelty, f"novelty ({similar} in the repository)"))

    base = sum(p for p, _ in parts)
    factor = CONSENT_FACTOR.get(i.consent, 0.4)
    fatigue = min(FATIGUE_MAX, FATIGUE_PER_ASK * i.asks_last_90_days)
    value = int(round(max(0.0, min(100.0, base * factor - fatigue))))
    reasons = [f"+{p:.0f} {label}" for p, label in parts if p > 0]
    reasons.append(f"×{factor:g} consent: {i.consent.replace('_', ' ')}")
    if fatigue:
        reasons.append(f"−{fatigue} fatigue: {i.asks_last_90_days} marketing ask(s) in 90 days")
    return Score(value, reasons, candidates(i, value))


def _quote_words(i: ScoreInputs) -> str:
    """Name the quote part, saying when consent keeps the quote from being used."""
    if CONSENT_RANK.get(i.consent, 0) == 0:
        return (
            "quote on file, but consent keeps it internal" if i.quote_ready else "comment on file"
        )
    return "quote available" if i.quote_ready else "comment on file"


def candidates(i: ScoreInputs, value: int) -> list[str]:
    """Return the candidate types this win qualifies for."""
    rank = CONSENT_RANK.get(i.consent, 0)
    promoter = (i.nps is not None and i.nps >= 9) or (i.csat is not None and i.csat >= 5)
    found = []
    strong = (i.money_value or 0) > 0 or (i.beyond_target or 0) >= 0.10
    if value >= 65 and rank >= 3 and strong:
        found.append("case_study")
    if i.quote_ready and rank >= 2:
        found.append("testimonial")
    if (i.health or 0) >= 70 and promoter and rank >= 2:
        found.append("reference")
    if value >= 45 and rank >= 1:
        found.append("social_proof")
    return found


def _sentiment(i: ScoreInputs) -> float:
    if i.nps is None and i.csat is None:
        return 5
    if (i.nps is not None and i.nps >= 9) or (i.csat is not None and i.csat >= 5):
        return 15
    if (i.nps is not None and i.nps >= 7) or (i.csat is not None and i.csat >= 4):
        return 8
    return 0


def _tenure(i: ScoreInputs) -> float:
    if i.customer_since is None:
        return 1
    years = (i.as_of - i.customer_since).days / 365.25
    return 5 if years >= 2 else 3 if years >= 1 else 1
