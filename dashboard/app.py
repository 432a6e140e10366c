"""hybrid-eval dashboard. Start it with `make dashboard` (or `streamlit run dashboard/app.py`);
the store is ``HYBRID_EVAL_DB_URL`` or the DuckDB file under ``HYBRID_EVAL_HOME``, opened read-only."""

import streamlit as st

st.set_page_config(page_title="hybrid-eval", page_icon=":material/travel_explore:", layout="wide")

VIEWS = [
    st.Page("views/runs.py", title="Runs", icon=":material/table_rows:", url_path="runs", default=True),
    st.Page("views/compare.py", title="Compare runs", icon=":material/compare_arrows:", url_path="compare"),
    st.Page("views/arms.py", title="Arms over seeds", icon=":material/stacked_line_chart:", url_path="arms"),
    st.Page("views/pairs.py", title="Language pairs", icon=":material/grid_on:", url_path="pairs"),
    st.Page("views/bias.py", title="Language bias", icon=":material/balance:", url_path="bias"),
    st.Page("views/coverage.py", title="Languages by coverage", icon=":material/visibility:", url_path="coverage"),
    st.Page(
        "views/underrepresented.py",
        title="Underrepresented languages",
        icon=":material/public:",
        url_path="underrepresented",
    ),
    st.Page("views/significance.py", title="Significance", icon=":material/functions:", url_path="significance"),
    st.Page("views/nightly.py", title="Nightly", icon=":material/nightlight:", url_path="nightly"),
]

st.navigation(VIEWS).run()
