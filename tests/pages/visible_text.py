"""What a page shows in words, and the words that should never be shown.

`visible_text(at)` is every string a person can read on the page: titles, headers, markdown,
captions, alerts, metrics (label, value, delta), buttons and links, widget labels, options and
help, tabs, expanders, statuses, toasts, dataframe and table cells and column names, chart titles,
axis titles, trace names and tick labels.

`problems(at, keys=...)` lists the words that should not be there, one line each:

- **raw enum values** of the enums under `core/` (every `enum.Enum` subclass with string values):
  - a value with an underscore (`mid_market`, `higher_is_better`, `not_configured`) is raw
    wherever it stands as a whole word;
  - a jargon value (`JARGON`: abbreviations and product names such as `smb`, `qbr`, `kpi`,
    `salesforce`) is raw wherever it stands in lower case as a whole word: its label is
    written in capitals ("SMB", "KPI goal", "Salesforce");
  - any other value is an ordinary English word ("active", "high", "watch") and counts only
    when a whole cell, option, metric value or badge is exactly that lower-case word, where a
    label would be capitalised ("Active");
- **keys** given in `keys` (metric keys, product keys) wherever they stand as a whole word
  (letters, digits, `_` and `-` make up a word, so `ai-assistant` is not found in
  `ai-assistant-pro`);
- neither counts in a column or field whose label says it holds keys ("Key (API and usage
  feeds)", "Code", "Key"): admin pages show the key other systems send, exactly as they send it;
- **missing values**: a cell or value that is None, NaN or NaT (a dataframe shows them as its
  placeholder, "None" unless one is given), the words "nan", "NaN" and "NaT" anywhere, and
  "None" anywhere but the start of an English sentence ("None of your customers", "None yet");
- **pydantic fragments** ("String should have", "Input should be", "Value error,",
  "Field required", "validation error") — messages belong in plain words;
- **charts**: an axis whose every value is 0 or 1 with neither tick labels nor whole-number
  ticks (a yes/no criterion read as numbers: "500m met", or half an escalation).

Code blocks are shown but not checked: a command is written as it must be typed. Markdown
link targets, icon codes (`:material/check_circle:`) and HTML tags are not visible and are
stripped first.
"""

import base64
import enum
import functools
import importlib
import json
import math
import pkgutil
import re
from collections.abc import Iterator
from pathlib import Path

import numpy
from streamlit.testing.v1 import AppTest

import core

# Enum values that are abbreviations or names: never written in lower case in English.
JARGON = frozenset({"csm", "smb", "roi", "kpi", "nps", "csat", "api", "qbr", "gmail", "salesforce"})
PYDANTIC = (
    "String should have",
    "Input should be",
    "Value error,",
    "Field required",
    "field required",
    "validation error",
    "should be a valid",
    "Assertion failed,",
)
# A column or field that says it holds keys: the word "key" or "code" in its label.
KEY_FIELD = re.compile(r"'[^']*\b(?:[Kk]ey|[Cc]ode)\b[^']*'")
MISSING_WORDS = re.compile(r"(?<![\w-])(nan|NaN|NaT)(?![\w-])")
NONE_WORD = re.compile(r"(?<![\w-])None(?![\w-])")
# "None" starting a sentence and followed by a lower-case word is English.
NONE_ENGLISH = re.compile(r"(?:^|[.!?]\s+|\n|[*_>#-]\s*)None(?=\s+[a-z])")
MARKDOWN_NOISE = (
    (re.compile(r"<script\b.*?</script>", re.S | re.I), " "),
    (re.compile(r"<style\b.*?</style>", re.S | re.I), " "),
    (re.compile(r"<[^>]+>"), " "),
    (re.compile(r"\]\([^)]*\)"), "]"),  # link targets
    (re.compile(r":material/[a-z0-9_]+:"), " "),  # icon codes
    (re.compile(r":[a-z]+-(?:badge|background)\["), "["),  # badge/background directives
    (re.compile(r":(?:red|orange|yellow|green|blue|violet|gray|grey|rainbow|primary)\["), "["),
    (re.compile(r"\\(.)"), r"\1"),  # markdown escapes
)


@functools.cache
def core_enum_values() -> dict[str, str]:
    """Return every string value of the enums under core/, mapped to its enum's name."""
    values: dict[str, str] = {}
    root = Path(core.__file__).parent
    for module in pkgutil.walk_packages([str(root)], "core."):
        found = importlib.import_module(module.name)
        for obj in vars(found).values():
            if (
                isinstance(obj, type)
                and issubclass(obj, enum.Enum)
                and obj.__module__ == found.__name__
            ):
                for member in obj:
                    if isinstance(member.value, str):
                        values.setdefault(member.value, f"{obj.__name__}.{member.name}")
    return values


# A piece of visible text: (where it is, text, kind). kind "prose" is running text, "cell" a
# whole value (a cell, option, metric value, badge), "code" a command, "missing" a null value.
Piece = tuple[str, str, str]


def visible_text(at: AppTest) -> str:
    """Return every string the page shows, one per line."""
    return "\n".join(text for _, text, kind in pieces(at) if kind != "missing")


def problems(at: AppTest, *, keys: set[str] | frozenset[str] = frozenset()) -> list[str]:
    """List the raw values, keys, missing values and pydantic fragments the page shows."""
    found: list[str] = []
    for where, text, kind in pieces(at):
        if kind == "code":
            continue
        if kind == "missing":
            found.append(f"{where}: missing value shown as {text!r}")
            continue
        found.extend(
            f"{where}: {p} in {_short(text)!r}" for p in _text_problems(text, kind, where, keys)
        )
    found.extend(_chart_problems(at))
    return list(dict.fromkeys(found))


def _text_problems(text: str, kind: str, where: str, keys) -> Iterator[str]:
    enums = core_enum_values()
    words = set(re.findall(r"[\w-]+", text))
    if KEY_FIELD.search(where):  # keys are shown exactly as other systems send them
        words = set()
    for word in sorted(words):
        if word in keys:
            yield f"key {word!r}"
        elif word in enums and "_" in word:
            yield f"raw value {word!r} ({enums[word]})"
        elif word in enums and word in JARGON:
            yield f"raw value {word!r} ({enums[word]}) in lower case"
    stripped = text.strip()
    plain_value = stripped in enums and stripped not in JARGON and "_" not in stripped
    if kind == "cell" and plain_value and not KEY_FIELD.search(where):
        yield f"raw value {stripped!r} ({enums[stripped]}) as a whole value"
    if kind == "cell" and stripped in ("None", "nan", "NaN", "NaT", "null"):
        yield f"missing value {stripped!r}"
    elif MISSING_WORDS.search(text):
        yield f"missing value {MISSING_WORDS.search(text).group(1)!r}"
    elif NONE_WORD.search(text):
        english = len(NONE_ENGLISH.findall(text))
        if len(NONE_WORD.findall(text)) > english:
            yield "missing value 'None'"
    for fragment in PYDANTIC:
        if fragment in text:
            yield f"validation message {fragment!r}"


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 120 else text[:117] + "…"


def _clean(text: str) -> str:
    for pattern, replacement in MARKDOWN_NOISE:
        text = pattern.sub(replacement, text)
    return text


def _missing(value) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return type(value).__name__ in ("NaTType", "NAType")


def pieces(at: AppTest) -> Iterator[Piece]:
    """Yield each visible string of the page with where it is and its kind."""
    for root in (at.main, at.sidebar):
        for node in root:
            yield from _node_pieces(node)


def _node_pieces(node) -> Iterator[Piece]:  # noqa: C901 - one branch per element type
    kind = getattr(node, "type", "")
    where = kind
    if kind in ("expander", "status", "tab"):
        yield (f"{kind} label", _clean(node.label), "prose")
    elif kind in ("title", "header", "subheader", "markdown", "caption", "text", "latex"):
        body = str(node.value)
        for badge in re.findall(r":[a-z]+-badge\[([^\]]*)\]", body):
            yield (f"{kind} badge", _clean(badge), "cell")
        yield (kind, _clean(body), "prose")
    elif kind in ("error", "warning", "info", "success", "toast") or kind == "html":
        yield (kind, _clean(str(node.value)), "prose")
    elif kind == "code":
        yield (kind, str(node.value), "code")
    elif kind == "metric":
        yield ("metric label", _clean(node.label), "prose")
        yield (f"metric {node.label!r} value", _clean(str(node.value)), "cell")
        if node.proto.delta:
            yield (f"metric {node.label!r} delta", _clean(node.proto.delta), "prose")
        if node.proto.help:
            yield (f"metric {node.label!r} help", _clean(node.proto.help), "prose")
    elif kind == "progress":
        if node.text:
            yield (kind, _clean(node.text), "prose")
    elif kind in ("dataframe", "table"):
        yield from _frame_pieces(node, kind)
    elif kind == "plotly_chart":
        yield from _chart_pieces(node)
    elif kind in ("link_button", "page_link"):
        yield (kind, _clean(str(node.value)), "prose")
    elif hasattr(node, "proto") and hasattr(node.proto, "label"):
        where = f"{kind} {node.proto.label!r}"
        yield (f"{kind} label", _clean(node.proto.label), "prose")
        for option in getattr(node, "options", None) or []:
            yield (f"{where} option", _clean(str(option)), "cell")
        if getattr(node.proto, "help", ""):
            yield (f"{where} help", _clean(node.proto.help), "prose")
        if getattr(node.proto, "placeholder", ""):
            yield (f"{where} placeholder", _clean(node.proto.placeholder), "prose")


def _frame_pieces(node, kind: str) -> Iterator[Piece]:
    frame = node.value
    config = {}
    if kind == "dataframe" and node.proto.columns:
        config = json.loads(node.proto.columns)
    order = list(node.proto.column_order) if kind == "dataframe" else []
    placeholder = node.proto.placeholder if kind == "dataframe" else ""
    has_placeholder = kind == "dataframe" and node.proto.HasField("placeholder")
    for column in frame.columns:
        settings = config.get(str(column)) or config.get(f"_pos:{column}") or {}
        if settings.get("hidden") or (order and str(column) not in order):
            continue
        name = settings.get("label") or str(column)
        yield (f"{kind} column name", _clean(name), "prose")
        for option in (settings.get("type_config") or {}).get("options") or []:
            yield (f"{kind} column {name!r} option", str(option), "cell")
        for value in frame[column].tolist():
            if _missing(value):
                if not has_placeholder or placeholder.strip() in ("None", "nan", "NaN", "null"):
                    shown = placeholder if has_placeholder else "None"
                    yield (f"{kind} column {name!r}", shown, "missing")
            elif isinstance(value, list | tuple | set):
                for item in value:
                    yield (f"{kind} column {name!r}", str(item), "cell")
            else:
                yield (f"{kind} column {name!r}", _clean(str(value)), "cell")


def _chart_spec(node) -> dict:
    try:
        return json.loads(node.proto.spec)
    except (AttributeError, ValueError):
        return {}


def _title(value) -> str:
    if isinstance(value, dict):
        return str(value.get("text") or "")
    return str(value or "")


def _chart_pieces(node) -> Iterator[Piece]:
    spec = _chart_spec(node)
    layout = spec.get("layout") or {}
    if _title(layout.get("title")):
        yield ("chart title", _clean(_title(layout["title"])), "prose")
    for name, axis in layout.items():
        if re.fullmatch(r"[xy]axis\d*", name) and isinstance(axis, dict):
            if _title(axis.get("title")):
                yield (f"chart {name} title", _clean(_title(axis["title"])), "prose")
            for tick in axis.get("ticktext") or []:
                yield (f"chart {name} tick", _clean(str(tick)), "cell")
    legend = layout.get("legend") or {}
    if _title(legend.get("title")):
        yield ("chart legend title", _clean(_title(legend["title"])), "prose")
    for annotation in layout.get("annotations") or []:
        if annotation.get("text"):
            yield ("chart annotation", _clean(str(annotation["text"])), "prose")
    for trace in spec.get("data") or []:
        if trace.get("name") and trace.get("showlegend", True) is not False:
            yield ("chart trace name", _clean(str(trace["name"])), "prose")
        if trace.get("type") in ("bar", "funnel", "pie") or trace.get("mode") == "text":
            for axis_key in ("x", "y", "labels", "text"):
                values = trace.get(axis_key)
                if isinstance(values, list) and values and all(isinstance(v, str) for v in values):
                    for value in values:
                        yield (f"chart {axis_key} label", _clean(value), "cell")


def _chart_problems(at: AppTest) -> Iterator[str]:
    for root in (at.main, at.sidebar):
        for node in root:
            if getattr(node, "type", "") != "plotly_chart":
                continue
            spec = _chart_spec(node)
            layout = spec.get("layout") or {}
            seen: dict[str, list] = {}
            for trace in spec.get("data") or []:
                if trace.get("orientation") == "h":
                    continue
                axis = "yaxis" + str(trace.get("yaxis", "y"))[1:]
                seen.setdefault(axis, []).extend(_numbers(trace.get("y")))
            for axis, values in seen.items():
                settings = layout.get(axis) or {}
                whole = (settings.get("dtick") or 0) >= 1 or "d" in (
                    settings.get("tickformat") or ""
                )
                if values and set(values) <= {0, 1} and not settings.get("ticktext") and not whole:
                    title = _title(settings.get("title"))
                    yield (
                        f"chart {axis} {title!r}: every value is 0 or 1 but the ticks are "
                        "fractions (say met/not met, or count in whole numbers)"
                    )


def _numbers(values) -> list[float]:
    """Return a trace's numbers, also from plotly's binary form ({"dtype", "bdata"})."""
    if isinstance(values, dict) and "bdata" in values:
        raw = base64.b64decode(values["bdata"])
        values = numpy.frombuffer(raw, dtype=numpy.dtype(values["dtype"])).tolist()
    if not isinstance(values, list):
        return []
    return [v for v in values if isinstance(v, int | float) and not _missing(v)]
