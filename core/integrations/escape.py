"""Escape people's text per target: Slack mrkdwn, email headers, HTML, Markdown, Block Kit."""

import html
from typing import Any
from urllib.parse import quote, urlsplit

# Slack limits (https://api.slack.com/reference/block-kit/blocks); longer text is rejected.
SECTION_TEXT_LIMIT = 3000
FIELD_TEXT_LIMIT = 2000
HEADER_TEXT_LIMIT = 150
FIELDS_LIMIT = 10


def slack_text(s: object) -> str:
    """Escape `&`, `<`, `>` so text is shown literally in mrkdwn (`<!channel>` becomes inert)."""
    return str(s).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def header_value(s: object) -> str:
    """Return `s` for an email header; raise ValueError if it holds CR or LF (header injection)."""
    value = str(s)
    if "\r" in value or "\n" in value:
        raise ValueError(f"email header value must not contain CR or LF: {value[:80]!r}")
    return value


def html_text(s: object) -> str:
    """Escape text (quotes included) for HTML element content and attribute values."""
    return html.escape(str(s), quote=True)


# Every ASCII punctuation character that Markdown (CommonMark, GFM, Streamlit's extensions:
# colour directives, emoji shortcodes, LaTeX) may read as syntax; a backslash makes each literal.
MARKDOWN_SPECIALS = frozenset("\\`*_{}[]()#+-.!|<>~:$")
_MARKDOWN_ESCAPES = str.maketrans({ch: "\\" + ch for ch in MARKDOWN_SPECIALS})


def markdown_text(s: object, *, inline: bool = False) -> str:
    """Escape text for Markdown so it shows literally: no link, image, heading, list or table.

    Escaping `:` and `.` also keeps bare URLs (`https://…`, `www.…`) from becoming links. A line
    break stays a line break; `inline=True` (a table cell, a list item) joins the lines instead.
    """
    text = str(s).translate(_MARKDOWN_ESCAPES)
    return " ".join(text.split()) if inline else text.replace("\r\n", "\n").replace("\n", "  \n")


def spreadsheet_cell(value: object) -> object:
    """Keep a CSV cell inert: spreadsheets run text starting with = + - @ (tab, CR) as formulas."""
    if isinstance(value, str) and value.startswith(("=", "+", "-", "@", "\t", "\r")):
        return "'" + value
    return value


def safe_url(url: object) -> str | None:
    """Return the URL when it is absolute http(s) with a host, else None."""
    value = str(url or "").strip()
    parts = urlsplit(value)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    if any(ch in value for ch in "\r\n\t "):
        return None
    return value


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def mrkdwn(template: str, **values: Any) -> str:
    """Fill a trusted mrkdwn template with escaped values: `mrkdwn("*{name}* won", name=x)`."""
    return template.format(**{k: slack_text(v) for k, v in values.items()})


def slack_link(url: str, label: str) -> str:
    """Return a mrkdwn link `<url|label>` with the label escaped; just the label for unsafe URLs."""
    target = safe_url(url)
    if target is None:
        return slack_text(label)
    # `<`, `>` and `|` would end the link early; percent-encode them in the URL.
    target = quote(target, safe=":/?#[]@!$&'()*+,;=%~-._")
    return f"<{target}|{slack_text(label)}>"


def section(text: str, *, escape: bool = True) -> dict:
    """Return a mrkdwn section block; `escape=False` only for text built with `mrkdwn()`."""
    body = slack_text(text) if escape else text
    return {"type": "section", "text": {"type": "mrkdwn", "text": _clip(body, SECTION_TEXT_LIMIT)}}


def header(text: str) -> dict:
    """Return a header block (plain text, so nothing in it is interpreted)."""
    return {
        "type": "header",
        "text": {"type": "plain_text", "text": _clip(str(text), HEADER_TEXT_LIMIT), "emoji": True},
    }


def fields(pairs: list[tuple[str, object]]) -> dict:
    """Return a section of up to 10 `*label*` / value fields, both escaped."""
    items = [
        {
            "type": "mrkdwn",
            "text": _clip(f"*{slack_text(label)}*\n{slack_text(value)}", FIELD_TEXT_LIMIT),
        }
        for label, value in pairs[:FIELDS_LIMIT]
    ]
    return {"type": "section", "fields": items}


def context(text: str, *, escape: bool = True) -> dict:
    """Return a context block with one mrkdwn element."""
    body = slack_text(text) if escape else text
    return {
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": _clip(body, SECTION_TEXT_LIMIT)}],
    }


def divider() -> dict:
    """Return a divider block."""
    return {"type": "divider"}
