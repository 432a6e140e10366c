"""Prefect flows, their deployments' services, and the ``hybrid-eval`` command line.

Prefect keeps its state (the temporary server's database, its settings) under
``HYBRID_EVAL_HOME`` and sends no telemetry from the project's processes: set here, before
anything imports Prefect, unless the user has set them.
"""

import os

from hybridcore.config.paths import home_dir

os.environ.setdefault("PREFECT_HOME", str(home_dir() / "prefect"))
# Prefect creates its home without parents: on a fresh clone HYBRID_EVAL_HOME is not there yet.
os.makedirs(os.environ["PREFECT_HOME"], exist_ok=True)
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
# The temporary server migrates a new database on its first start: on 2 busy cores that
# took more than Prefect's default 20 s, and the first `make run` of a fresh clone failed.
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
