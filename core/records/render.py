"""Render a success record as Markdown, HTML, Google Doc blocks and a Slack announcement."""

from core.base import Consent, Segment
from core.formatting import number
from core.goals.results import value_summary
from core.integrations import escape
from core.records.facts import RecordFacts

# How a segment reads inside a sentence ("Acme (Retail, SMB) raised …").
SEGMENT_WORDS = {
    Segment.SMB: "SMB",
    Segment.MID_MARKET: "mid-market",
    Segment.ENTERPRISE: "enterprise",
}


def title(facts: RecordFacts) -> str:
    """Return the record's title."""
    return f"{facts.customer_name}: {facts.goal_name}"


def summary(facts: RecordFacts) -> str:
    """Return the one-paragraph story of the win."""
    return (
        f"{facts.customer_name} ({facts.industry}, {SEGMENT_WORDS[Segment(facts.segment)]}) "
        f"{facts.result} in {facts.days_to_achieve} days, delivering {value_summary(facts)}."
    )


def _baseline(f: RecordFacts) -> str:
    shown = number(f.baseline, f.unit, money=f.is_money)
    source = f.baseline_source
    return (
        f"{shown} ({source})"
        if f.baseline is not None and source not in (None, "stated")
        else shown
    )


def _achieved(f: RecordFacts) -> str:
    if f.achieved is not None:
        return number(f.achieved, f.unit, money=f.is_money)
    return "Every milestone done" if f.method == "automatic" else "Milestone confirmed"


def _improvement(f: RecordFacts) -> str:
    """The direction-aware change from the baseline, in words."""
    change = f.improvement
    if change is None:
        return "—"
    return f"{abs(change):.0%} {'better' if change >= 0 else 'worse'} than the baseline"


def facts_table(f: RecordFacts) -> list[list[str]]:
    """Return the result table: measure, baseline, target, achieved, timing, verification."""
    beyond = f"{f.beyond_target:.0%}" if f.beyond_target is not None else "—"
    return [
        ["Measure", f.metric_name or f.goal_type.replace("_", " ").capitalize()],
        ["Baseline", _baseline(f)],
        ["Target", number(f.target, f.unit, money=f.is_money)],
        ["Achieved", _achieved(f)],
        ["Improvement", _improvement(f)],
        ["Beyond target", beyond],
        ["Started", f.start_date.isoformat()],
        ["Achieved on", f.achieved_at.date().isoformat()],
        ["Days to achieve", str(f.days_to_achieve)],
        ["Verification", f"{f.rule} ({f.confidence} confidence, {f.method})"],
    ]


def _no_quote(f: RecordFacts) -> str:
    """Say why no quote is shown, without claiming there is none when consent withholds one."""
    # Internal-only consent hides quotes from sales and marketing, so "no quote yet" could be
    # untrue for them; the sentence below is true for every reader.
    if f.consent_level == Consent.INTERNAL_ONLY:
        return "None to share: this customer's consent keeps their words internal."
    return "No quote yet — ask at the next check-in."


def sections(f: RecordFacts) -> list[tuple[str, list[str]]]:
    """Return the record's listed sections: contributing factors, quotes, context."""
    quotes = [
        f"“{q.text}” — {', '.join(p for p in (q.name, q.title) if p) or 'customer'}"
        for q in f.quotes
    ]
    return [
        ("Contributing factors", f.factors),
        ("In the customer's words", quotes or [_no_quote(f)]),
        (
            "Context",
            [
                f"Industry: {f.industry}",
                f"Use case: {f.use_case or '—'}",
                f"Products: {', '.join(f.products) or '—'}",
                f"CSM: {f.csm_name or '—'}",
            ],
        ),
    ]


def markdown(f: RecordFacts) -> str:
    """Return the record as Markdown (download, in-app reading), people's text escaped."""
    md = escape.markdown_text
    lines = [f"# {md(title(f), inline=True)}", "", md(summary(f)), ""]
    if f.goal_description:
        lines += ["## Goal", "", md(f.goal_description), ""]
    lines += ["## Result", "", "| | |", "|---|---|"]
    lines += [f"| {md(k, inline=True)} | {md(v, inline=True)} |" for k, v in facts_table(f)]
    for heading, items in sections(f):
        lines += ["", f"## {md(heading)}", ""] + [f"- {md(item, inline=True)}" for item in items]
    return "\n".join(lines) + "\n"


def html(f: RecordFacts) -> str:
    """Return the record as a standalone HTML page, every value escaped."""
    e = escape.html_text
    rows = "".join(f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in facts_table(f))
    parts = [
        f"<h1>{e(title(f))}</h1>",
        f"<p>{e(summary(f))}</p>",
        f"<h2>Goal</h2><p>{e(f.goal_description)}</p>" if f.goal_description else "",
        f"<h2>Result</h2><table>{rows}</table>",
    ]
    for heading, items in sections(f):
        parts.append(f"<h2>{e(heading)}</h2><ul>{''.join(f'<li>{e(i)}</li>' for i in items)}</ul>")
    style = (
        "body{font-family:sans-serif;max-width:760px;margin:2em auto;color:#1F2A37}"
        "table{border-collapse:collapse}th,td{border:1px solid #DDE3EA;padding:4px 8px;"
        "text-align:left}"
    )
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{e(title(f))}</title>"
        f"<style>{style}</style></head><body>{''.join(parts)}</body></html>"
    )


def doc_blocks(f: RecordFacts) -> list[dict]:
    """Return the record as Google Doc blocks for the outbox (the wrapper escapes the text)."""
    blocks = [
        {"kind": "heading", "text": title(f), "level": 1},
        {"kind": "paragraph", "text": summary(f)},
    ]
    if f.goal_description:
        blocks += [
            {"kind": "heading", "text": "Goal", "level": 2},
            {"kind": "paragraph", "text": f.goal_description},
        ]
    blocks += [
        {"kind": "heading", "text": "Result", "level": 2},
        {"kind": "table", "rows": facts_table(f)},
    ]
    for heading, items in sections(f):
        blocks += [
            {"kind": "heading", "text": heading, "level": 2},
            {"kind": "bullets", "items": items},
        ]
    return blocks


def slack_announcement(f: RecordFacts, *, app_url: str | None = None) -> dict:
    """Return the wins-channel message: the win, the numbers, and the CSM's recognition."""
    csm = f"<@{f.csm_slack_id}>" if f.csm_slack_id else escape.slack_text(f.csm_name or "the team")
    headline = escape.mrkdwn("*{customer}* {result}.", customer=f.customer_name, result=f.result)
    blocks = [
        escape.header(f"Customer win: {f.customer_name}"),
        escape.section(headline, escape=False),
        escape.fields(
            [
                ("Goal", f.goal_name),
                ("Value", value_summary(f)),
                ("Days to achieve", f.days_to_achieve),
                ("Industry", f.industry),
            ]
        ),
    ]
    if f.quotes:
        blocks.append(escape.section(f"“{f.quotes[0].text}”"))
    recognition = f"Kudos to {csm} for guiding {escape.slack_text(f.customer_name)} there."
    if app_url:
        recognition += " " + escape.slack_link(app_url, "Open the success record")
    blocks.append(escape.context(recognition, escape=False))
    return {"text": f"Customer win: {f.customer_name} — {f.goal_name}", "blocks": blocks}
