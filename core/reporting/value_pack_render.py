"""Render a value pack as Markdown, standalone HTML and Google Doc blocks, text escaped."""

from decimal import Decimal

from core.formatting import money, number
from core.integrations.escape import html_text, markdown_text
from core.reporting.value_pack_schemas import PackAudience, PackWin, ValuePack

AUDIENCE_WORDS = {
    PackAudience.INTERNAL: "Internal: for the customer success team, not to be shared",
    PackAudience.CUSTOMER: "To share with the customer",
}
BEFORE_COLOR, AFTER_COLOR = "#9AA5B1", "#2F7D5B"


def figure(win: PackWin, value: Decimal | None) -> str:
    """A win's value with its unit: '$120K', '4.2 hours'; '—' when there is none."""
    return number(value, win.unit, money=win.is_money)


def change_text(win: PackWin) -> str:
    """The direction-aware improvement in words, or why there is none."""
    if win.improvement is None:
        if win.baseline is None:
            return "no baseline"
        return "not comparable (the baseline is zero)" if win.achieved is not None else "—"
    better = "better" if win.improvement >= 0 else "worse"
    return f"{abs(win.improvement):.0%} {better}"


def win_rows(pack: ValuePack) -> list[list[str]]:
    """The before/after table: a header row, then one row per win."""
    rows = [["Win", "Measure", "Before", "After", "Target", "Change", "Achieved on"]]
    for w in pack.wins:
        measure = f"{w.measure} (lower is better)" if w.lower_is_better else w.measure
        before = figure(w, w.baseline) if w.baseline is not None else "no baseline"
        rows.append(
            [
                w.title,
                measure,
                before,
                figure(w, w.achieved) if w.achieved is not None else "confirmed by the team",
                figure(w, w.target),
                change_text(w),
                w.achieved_on.isoformat(),
            ]
        )
    return rows


def upsell_rows(pack: ValuePack) -> list[list[str]]:
    """The expansions table: a header row, then one row per expansion."""
    rows = [["Expansion", "Products", "Added ARR", "Closed", "Outcome"]]
    for u in pack.upsells:
        rows.append(
            [
                u.name,
                ", ".join(u.products) or "—",
                money(u.arr_increase),
                u.close_date.isoformat(),
                u.outcome,
            ]
        )
    return rows


def _md(text: object) -> str:
    return markdown_text(text, inline=True)


def _md_table(rows: list[list[str]]) -> list[str]:
    head, *body = rows
    lines = ["| " + " | ".join(_md(c) for c in head) + " |", "|" + "---|" * len(head)]
    return lines + ["| " + " | ".join(_md(c) for c in row) + " |" for row in body]


def markdown(pack: ValuePack) -> str:
    """Return the pack as Markdown; every text from people or records is escaped."""
    lines = [f"# {_md(pack.title)}", "", f"*{_md(AUDIENCE_WORDS[pack.audience])}*", ""]
    lines += ["## Summary", ""] + [f"- {_md(h)}" for h in pack.summary.headlines]
    if pack.wins:
        lines += ["", "## Wins: before and after", "", *_md_table(win_rows(pack))]
        for w in pack.wins:
            lines += ["", f"### {_md(w.title)}", "", _md(w.result), "", f"- {_md(w.baseline_note)}"]
            lines.append(f"- {_md('Verified: ' + w.verification)}")
    if pack.roi:
        lines += ["", "## Return on investment", ""]
        for line in pack.roi:
            lines.append(f"- **{_md(line.source)}:** {_md(line.text)}")
            lines += [f"  - {_md(b)}" for b in line.basis]
    if pack.upsells:
        lines += ["", "## Expansions and their outcomes", "", *_md_table(upsell_rows(pack))]
        for u in pack.upsells:
            lines += ["", f"### {_md(u.name)}", ""] + [f"- {_md(c.text)}" for c in u.criteria]
    for section in pack.sections:
        lines += ["", f"## {_md(section.heading)}", ""] + [f"- {_md(t)}" for t in section.lines]
    return "\n".join(lines) + "\n"


def bars_svg(win: PackWin) -> str:
    """Before/after bars of one win as inline SVG (empty without both figures)."""
    if not win.has_before_after:
        return ""
    top = max(abs(float(win.baseline)), abs(float(win.achieved))) or 1.0
    parts = []
    for i, (name, value, color) in enumerate(
        (("Before", win.baseline, BEFORE_COLOR), ("After", win.achieved, AFTER_COLOR))
    ):
        y = 6 + i * 30
        width = max(2.0, 300 * abs(float(value)) / top)
        parts.append(
            f'<text x="0" y="{y + 15}" font-size="12">{name}</text>'
            f'<rect x="60" y="{y}" width="{width:.1f}" height="20" fill="{color}"/>'
            f'<text x="{66 + width:.1f}" y="{y + 15}" font-size="12">'
            f"{html_text(figure(win, value))}</text>"
        )
    label = f"Before and after: {win.measure}"
    return (
        f'<svg role="img" aria-label="{html_text(label)}" width="480" height="70" '
        f'xmlns="http://www.w3.org/2000/svg">{"".join(parts)}</svg>'
    )


def _html_table(rows: list[list[str]]) -> str:
    head, *body = rows
    cells = "".join(f"<th>{html_text(c)}</th>" for c in head)
    trs = "".join("<tr>" + "".join(f"<td>{html_text(c)}</td>" for c in r) + "</tr>" for r in body)
    return f"<table><thead><tr>{cells}</tr></thead><tbody>{trs}</tbody></table>"


def _list(items: list[str]) -> str:
    return "<ul>" + "".join(f"<li>{html_text(i)}</li>" for i in items) + "</ul>"


def html(pack: ValuePack) -> str:
    """Return the pack as a standalone HTML page with before/after bars, every value escaped."""
    e = html_text
    parts = [
        f"<h1>{e(pack.title)}</h1>",
        f"<p><em>{e(AUDIENCE_WORDS[pack.audience])}</em></p>",
        "<h2>Summary</h2>",
        _list(pack.summary.headlines),
    ]
    if pack.wins:
        parts += ["<h2>Wins: before and after</h2>", _html_table(win_rows(pack))]
        for w in pack.wins:
            parts += [f"<h3>{e(w.title)}</h3>", f"<p>{e(w.result)}</p>", bars_svg(w)]
            parts.append(_list([w.baseline_note, f"Verified: {w.verification}"]))
    if pack.roi:
        parts.append("<h2>Return on investment</h2><ul>")
        for line in pack.roi:
            basis = _list(line.basis) if line.basis else ""
            parts.append(f"<li><strong>{e(line.source)}:</strong> {e(line.text)}{basis}</li>")
        parts.append("</ul>")
    if pack.upsells:
        parts += ["<h2>Expansions and their outcomes</h2>", _html_table(upsell_rows(pack))]
        for u in pack.upsells:
            parts += [f"<h3>{e(u.name)}</h3>", _list([c.text for c in u.criteria])]
    for section in pack.sections:
        parts += [f"<h2>{e(section.heading)}</h2>", _list(section.lines)]
    style = (
        "body{font-family:sans-serif;max-width:900px;margin:2em auto;color:#1F2A37}"
        "table{border-collapse:collapse;margin:0.5em 0}th,td{border:1px solid #DDE3EA;"
        "padding:4px 8px;text-align:left}svg{display:block;margin:0.5em 0}"
    )
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{e(pack.title)}</title>"
        f"<style>{style}</style></head><body>{''.join(parts)}</body></html>\n"
    )


def doc_blocks(pack: ValuePack) -> list[dict]:
    """Return the pack as Google Doc blocks for the outbox (the Docs wrapper escapes the text)."""
    blocks: list[dict] = [
        {"kind": "heading", "text": pack.title, "level": 1},
        {"kind": "paragraph", "text": AUDIENCE_WORDS[pack.audience]},
        {"kind": "heading", "text": "Summary", "level": 2},
        {"kind": "bullets", "items": pack.summary.headlines},
    ]
    if pack.wins:
        blocks += [
            {"kind": "heading", "text": "Wins: before and after", "level": 2},
            {"kind": "table", "rows": win_rows(pack)},
        ]
        for w in pack.wins:
            blocks += [
                {"kind": "heading", "text": w.title, "level": 3},
                {"kind": "paragraph", "text": w.result},
                {"kind": "bullets", "items": [w.baseline_note, f"Verified: {w.verification}"]},
            ]
    if pack.roi:
        blocks += [
            {"kind": "heading", "text": "Return on investment", "level": 2},
            {
                "kind": "bullets",
                "items": [f"{r.source}: {r.text}" for r in pack.roi]
                + [b for r in pack.roi for b in r.basis],
            },
        ]
    if pack.upsells:
        blocks += [
            {"kind": "heading", "text": "Expansions and their outcomes", "level": 2},
            {"kind": "table", "rows": upsell_rows(pack)},
        ]
        for u in pack.upsells:
            if u.criteria:
                blocks += [
                    {"kind": "heading", "text": u.name, "level": 3},
                    {"kind": "bullets", "items": [c.text for c in u.criteria]},
                ]
    for section in pack.sections:
        blocks += [
            {"kind": "heading", "text": section.heading, "level": 2},
            {"kind": "bullets", "items": section.lines},
        ]
    return blocks
