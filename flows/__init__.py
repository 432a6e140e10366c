"""Prefect flows, their deployments' services, and the ``hybrid-eval`` command line.

Prefect keeps its state (the temporary server's database, its settings) under
``HYBRID_EVAL_HOME`` and sends no telemetry from the project's processes: set here, before
anything imports Prefect, unless the user has set them.
"""

import os

from hybridcore.run.paths import home_dir

os.environ.setdefault("PREFECT_HOME", str(home_dir() / "prefect"))
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
