"""A refused form's messages: one per problem, each naming the field by its label on screen.

Core joins several problems into one message ("metric: …; target: …") and names fields as the
API does; `components.forms.in_words` turns one such message (or an input model's errors) into
the form's words, and this splits the joined ones first.
"""

import re

import streamlit as st
from pydantic import ValidationError

from components.format import escape_md
from components.forms import in_words

# "; " starts a new problem when a field name and ": " follow it.
_NEXT = re.compile(r"; (?=[A-Za-z_][\w.\[\]]*: )")


def form_messages(problem: Exception, labels: dict[str, str]) -> list[str]:
    """Return the form's messages for a refused entry, fields named by their labels."""
    if isinstance(problem, ValidationError):
        found = in_words(problem, labels)
    else:
        parts = _NEXT.split(str(problem))
        found = [m for part in parts for m in in_words(part.rstrip(".") + ".", labels)]
    return [_mentions(message, labels) for message in found]


def _mentions(message: str, labels: dict[str, str]) -> str:
    """Name other fields a message mentions by their labels too ("before startDate")."""
    for name, shown in labels.items():
        if name != name.lower():  # camelCase API names only: "name" or "type" are also words
            first = shown.split()[0]
            words = shown if first.isupper() else first.lower() + shown[len(first) :]
            message = re.sub(rf"\b{re.escape(name)}\b", words, message)
    return message


def show(messages: list[str]) -> None:
    """Show each message as an error where the form is."""
    for message in messages:
        st.error(escape_md(message), icon=":material/error:")
