"""QQ plots of calibrated latencies: observed quantiles against the fitted lognormal's, one
panel per dependency, written beside the calibrated model. Draws only."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np

from sim.calibration.per_dependency import DependencyCalibration
from sim.report.figures import png


def qq_plot(calibrations: list[DependencyCalibration]) -> bytes | None:
    """PNG bytes of the QQ plots (log-log, the diagonal is a perfect fit), or None when
    no dependency had a latency fitted."""
    fitted = [c for c in calibrations if c.latency is not None]
    if not fitted:
        return None
    columns = min(3, len(fitted))
    rows = math.ceil(len(fitted) / columns)
    fig, axes = plt.subplots(rows, columns, figsize=(4.2 * columns, 3.8 * rows), squeeze=False)
    for ax in axes.flat[len(fitted) :]:
        ax.set_visible(False)
    for ax, cal in zip(axes.flat, fitted, strict=False):
        fit = cal.latency
        assert fit is not None
        observed, model = (np.asarray(a, dtype=float) * 1000 for a in fit.qq)
        keep = (observed > 0) & (model > 0)
        ax.scatter(observed[keep], model[keep], s=8, color="#6c8ebf")
        if keep.any():
            low = min(observed[keep].min(), model[keep].min())
            high = max(observed[keep].max(), model[keep].max())
            ax.plot([low, high], [low, high], color="0.4", linewidth=1, linestyle="--")
            ax.set_xscale("log")
            ax.set_yscale("log")
        verdict = "lognormal" if fit.kind == "lognormal" else f"{fit.kind} (lognormal rejected)"
        ax.set_title(f"{cal.name}: {verdict}\nKS {fit.ks:.3f}, {fit.samples} calls", fontsize=9)
        ax.set_xlabel("observed latency quantile (ms)")
        ax.set_ylabel("fitted lognormal quantile (ms)")
    fig.tight_layout()
    return png(fig)
