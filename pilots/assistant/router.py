"""The hand-over router: a logistic regression over interpretable features, explained by SHAP.

It is fitted on the labelled training split only. Features are standardised with the training mean and
spread, so that a SHAP value reads as a contribution to the log-odds of handing over to a human.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import numpy as np

from pilots.assistant.signals import FEATURES

ROUTER_VERSION = "handover-router/1"


@dataclass(frozen=True)
class Decision:
    """What the router decided for one turn, and why."""

    handover: bool
    probability: float
    shap: dict[str, float]
    base_value: float
    features: dict[str, float]


class HandoverRouter:
    """Logistic regression answer-vs-hand-over, with a SHAP linear explainer over a training background."""

    def __init__(self, threshold: float = 0.5, background: int = 60, seed: int = 0) -> None:
        self.threshold = threshold
        self.background_size = background
        self.seed = seed
        self.fitted = False

    def fit(self, rows: np.ndarray, labels: np.ndarray) -> HandoverRouter:
        """Fit on training features (n × len(FEATURES)) and labels (1 = hand over)."""
        import shap
        from sklearn.linear_model import LogisticRegression

        if len(set(labels.tolist())) < 2:
            raise ValueError("the training split needs both answered and handed-over questions")
        self.mean = rows.mean(axis=0)
        self.scale = rows.std(axis=0)
        self.scale[self.scale == 0] = 1.0
        x = self._standardise(rows)
        self.model = LogisticRegression(C=1.0, class_weight="balanced", max_iter=1000).fit(x, labels)
        rng = np.random.default_rng(self.seed)
        take = rng.choice(len(x), size=min(self.background_size, len(x)), replace=False)
        self.background = x[np.sort(take)]
        self.explainer = shap.LinearExplainer(self.model, self.background)
        self.train_accuracy = float((self.model.predict(x) == labels).mean())
        self.n_train = int(len(labels))
        self.fitted = True
        return self

    def _standardise(self, rows: np.ndarray) -> np.ndarray:
        return (rows - self.mean) / self.scale

    def decide(self, values: tuple[float, ...]) -> Decision:
        """Decide one turn and explain it with its SHAP values (log-odds, rounded for reproducibility)."""
        x = self._standardise(np.asarray([values], dtype=float))
        probability = float(self.model.predict_proba(x)[0, 1])
        contributions = np.asarray(self.explainer.shap_values(x)).reshape(-1)
        base = float(np.asarray(self.explainer.expected_value).reshape(-1)[0])
        return Decision(
            handover=probability >= self.threshold,
            probability=round(probability, 4),
            shap={f: round(float(v), 4) for f, v in zip(FEATURES, contributions, strict=True)},
            base_value=round(base, 4),
            features=dict(zip(FEATURES, values, strict=True)),
        )

    def describe(self) -> dict[str, Any]:
        """What an auditor needs to read the router: version, weights, training size and accuracy."""
        coefs = self.model.coef_[0]
        summary = {
            "version": ROUTER_VERSION,
            "model": "sklearn.linear_model.LogisticRegression(class_weight='balanced')",
            "explainer": "shap.LinearExplainer (interventional, training background)",
            "features": list(FEATURES),
            "coefficients_standardised": {
                f: round(float(c), 4) for f, c in zip(FEATURES, coefs, strict=True)
            },
            "intercept": round(float(self.model.intercept_[0]), 4),
            "feature_mean": {f: round(float(m), 4) for f, m in zip(FEATURES, self.mean, strict=True)},
            "feature_scale": {f: round(float(s), 4) for f, s in zip(FEATURES, self.scale, strict=True)},
            "threshold": self.threshold,
            "n_train": self.n_train,
            "train_accuracy": round(self.train_accuracy, 4),
            "background_rows": int(len(self.background)),
        }
        summary["sha256"] = hashlib.sha256(json.dumps(summary, sort_keys=True).encode()).hexdigest()
        return summary
