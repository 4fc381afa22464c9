"""Run-level artifacts of the assistant pilot: the router card and the global SHAP summary plot."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from civiclab import SessionRecord
from pilots.assistant.router import HandoverRouter
from pilots.assistant.signals import FEATURES


def write_router_card(router: HandoverRouter, out_dir: Path) -> Path:
    """The router's version, weights and training figures, for auditors."""
    path = out_dir / "assistant_router.json"
    path.write_text(json.dumps(router.describe(), indent=1, sort_keys=True), encoding="utf-8")
    return path


def shap_matrix(records: list[SessionRecord]) -> tuple[np.ndarray, np.ndarray]:
    """SHAP values and feature values of every routing decision of the run."""
    shap_rows: list[list[float]] = []
    feature_rows: list[list[float]] = []
    for record in records:
        for event in record.events:
            if event.kind == "turn.route":
                shap_rows.append([float(event.payload["shap"][f]) for f in FEATURES])
                feature_rows.append([float(event.payload["features"][f]) for f in FEATURES])
    return np.asarray(shap_rows, dtype=float), np.asarray(feature_rows, dtype=float)


def write_shap_summary(records: list[SessionRecord], out_dir: Path) -> Path | None:
    """A beeswarm summary of all decisions (matplotlib Agg), or None when nothing was routed."""
    values, data = shap_matrix(records)
    if len(values) == 0:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import shap

    shap.summary_plot(values, features=data, feature_names=list(FEATURES), show=False, plot_size=(8, 4.5))
    plt.title("Hand-over router: SHAP values of every decision (log-odds of a hand-over)")
    plt.tight_layout()
    path = out_dir / "assistant_shap_summary.png"
    plt.savefig(path, dpi=100)
    plt.close("all")
    return path
