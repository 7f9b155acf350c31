"""Metric cards, page headers and empty states."""

from dataclasses import dataclass

import streamlit as st


@dataclass(frozen=True)
class Card:
    """One figure for a metric card."""

    label: str
    value: str | int
    help: str | None = None
    icon: str | None = None


def page_header(title: str, caption: str | None = None) -> None:
    """Render a page title with an optional one-line caption."""
    st.title(title)
    if caption:
        st.caption(caption)


def shown(value: str | int) -> str | int:
    """A count as people read it (12,480, not 12480); text as it is."""
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else value


def metric_row(cards: list[Card]) -> None:
    """Render cards side by side as bordered st.metric tiles."""
    for column, card in zip(st.columns(len(cards)), cards, strict=True):
        with column:
            value = shown(card.value)
            st.metric(card.label, value, help=card.help, icon=card.icon, border=True)


def fact_row(cards: list[Card]) -> None:
    """Render short text facts side by side; unlike st.metric, long values wrap."""
    for column, card in zip(st.columns(len(cards)), cards, strict=True):
        with column, st.container(border=True, height="stretch"):
            st.caption(card.label, help=card.help)
            st.markdown(f"**{shown(card.value)}**")


def empty_state(title: str, hint: str, *, icon: str = ":material/info:") -> None:
    """Render a friendly box saying what is missing and how it appears."""
    st.info(f"**{title}**  \n{hint}", icon=icon)
