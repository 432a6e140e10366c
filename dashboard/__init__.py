"""The Streamlit dashboard: runs, comparisons, language pairs, language bias, seen vs unseen
languages and significance, read-only from the store through ``db.queries``."""
