"""Text typed in the approval editor and not saved yet, kept per draft across the inbox.

The editor's widgets lose their state in the first run that does not show them (another draft
opened, a page turned, a filter changed), so every committed edit is copied into a dict under a
key of its own: draft id → the subject, body and reason typed, with the version they were typed
on. Opening the draft again starts the widgets from it (as their `value`). Text typed on a
version someone else has since replaced is never written back over theirs: it moves to "Your
unsaved text".
"""

import uuid

import streamlit as st

from core.drafts.schemas import DraftDetail

UNSAVED = "approvals_unsaved"  # draft id → what the editor holds that is not saved
SUPERSEDED = "approvals_superseded"  # draft id → text typed on an older version
FIELDS = ("subject", "body", "reason")
PARTS = (*FIELDS, "version", "base")  # each draft's own keys: draft_<part>_<draft id>


def keys(draft_id: uuid.UUID) -> dict[str, str]:
    """Return the session-state keys of one draft's editor (widgets, version, saved text)."""
    return {part: f"draft_{part}_{draft_id}" for part in PARTS}


def _kept(name: str) -> dict:
    return st.session_state.setdefault(name, {})


def keep(draft_id: uuid.UUID) -> None:
    """Copy the editor's text into the keeping (on each committed edit)."""
    state, k = st.session_state, keys(draft_id)
    base = state.get(k["base"])
    if base is None or k["subject"] not in state:
        return  # saved, decided or reloaded in this same run: nothing is left to keep
    typed = {part: state.get(k[part]) or "" for part in FIELDS}
    edited = (typed["subject"], typed["body"]) != base
    if edited or typed["reason"]:
        _kept(UNSAVED)[draft_id] = {**typed, "edited": edited, "version": state[k["version"]]}
    else:
        _kept(UNSAVED).pop(draft_id, None)


def restore(row: DraftDetail) -> dict[str, str]:
    """Return the editor's starting text; kept text typed on an older version is set aside."""
    state, k = st.session_state, keys(row.id)
    kept = _kept(UNSAVED).get(row.id)
    if k["subject"] not in state:  # a new editor: first view, or its widgets were dropped
        if kept and kept["version"] != row.version:
            set_aside(row.id)  # its subject and body go to "Your unsaved text"
            kept = {**kept, "subject": row.subject, "body": row.body, "edited": False}
            kept["version"] = row.version
            if kept["reason"]:  # a reason holds for any version: it stays in its field
                _kept(UNSAVED)[row.id] = kept
        state[k["version"]], state[k["base"]] = row.version, (row.subject, row.body)
    # The widgets get this as `value`, never under their keys: a run cut short by the next click
    # could leave such a key set while the browser never got it, and the field showed empty.
    if kept:
        return {part: kept[part] for part in FIELDS}
    return {"subject": row.subject, "body": row.body, "reason": ""}


def saved(draft_id: uuid.UUID, version: int) -> None:
    """Record that the editor's subject and body are now the draft's saved text."""
    state, k = st.session_state, keys(draft_id)
    state[k["version"]], state[k["base"]] = version, (state[k["subject"]], state[k["body"]])
    _kept(SUPERSEDED).pop(draft_id, None)
    keep(draft_id)  # a reason typed for a later rejection is still kept


def reload(draft_id: uuid.UUID) -> None:
    """Let the next run load the draft's latest text; what was typed goes to "Your unsaved text"."""
    state, k = st.session_state, keys(draft_id)
    typed = (state.get(k["subject"]), state.get(k["body"]))
    if k["subject"] in state and typed != state.get(k["base"]):
        _kept(SUPERSEDED)[draft_id] = dict(zip(("subject", "body"), typed, strict=True))
    _kept(UNSAVED).pop(draft_id, None)
    for part in ("subject", "body", "version", "base"):
        state.pop(k[part], None)


def set_aside(draft_id: uuid.UUID) -> None:
    """Move kept text of a draft that can no longer be edited to "Your unsaved text"."""
    kept = _kept(UNSAVED).pop(draft_id, None)
    if kept and kept["edited"]:
        _kept(SUPERSEDED)[draft_id] = {"subject": kept["subject"], "body": kept["body"]}


def superseded(draft_id: uuid.UUID) -> dict[str, str] | None:
    """Return the text typed on an older version of the draft, if any."""
    return st.session_state.get(SUPERSEDED, {}).get(draft_id)


def forget(draft_id: uuid.UUID) -> None:
    """Drop everything kept for the draft (it was approved or rejected)."""
    state = st.session_state
    for key in keys(draft_id).values():
        state.pop(key, None)
    for name in (UNSAVED, SUPERSEDED):
        state.get(name, {}).pop(draft_id, None)


def held() -> set[uuid.UUID]:
    """Return the drafts whose subject or body holds edits not saved (a reason alone is none)."""
    state = st.session_state
    edited = {i for i, kept in state.get(UNSAVED, {}).items() if kept["edited"]}
    return edited | set(state.get(SUPERSEDED, {}))
