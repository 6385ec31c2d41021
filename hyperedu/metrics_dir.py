"""Where the server workers keep their Prometheus values (prometheus-client's multiprocess
mode), prepared by `hyperedu serve` before any worker starts.

Granian forks its workers from the serving process, and prometheus-client picks its value
storage once, when it is first imported: so PROMETHEUS_MULTIPROC_DIR must be set here before
anything in this process imports it, or every worker would count only for itself.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def prepare_metrics_dir(data_path: Path) -> Path:
    """Set PROMETHEUS_MULTIPROC_DIR (kept if already set, else DATA_DIR/metrics) and empty
    it of an earlier run's values."""
    if "prometheus_client" in sys.modules and not os.environ.get(MULTIPROC_ENV):
        raise RuntimeError(
            f"prometheus_client was imported before {MULTIPROC_ENV} was set;"
            " the workers' metrics would not be shared"
        )
    path = Path(os.environ.get(MULTIPROC_ENV) or data_path / "metrics")
    path.mkdir(parents=True, exist_ok=True)
    for stale in path.glob("*.db"):
        stale.unlink()
    os.environ[MULTIPROC_ENV] = str(path)
    return path
