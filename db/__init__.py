"""The store: SQLAlchemy 2 models on DuckDB (or any SQLAlchemy URL). All SQL lives here."""
