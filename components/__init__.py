"""Reusable Streamlit UI: sign-in, navigation, cards, charts, tables."""
