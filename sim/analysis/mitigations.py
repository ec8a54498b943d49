"""Plot data for the paper's three mitigations: gateway shares, stock, confirmations."""

from __future__ import annotations

import numpy as np
import pandas as pd

CONFIRMATION_COLUMNS = ("confirmed_in_app", "confirmed_email", "confirmed_sms", "cs_followups")


def gateway_shares(orders: pd.DataFrame, horizon: float, bin_s: float = 60.0) -> pd.DataFrame:
    """Share of completed orders each gateway captured, per bin of checkout end, pooled over
    replications: configuration, time_s, gateway, share. ``GatewayShares`` makes the same
    table from the orders a run at a time."""
    shares = GatewayShares(horizon, bin_s)
    shares.add(orders)
    return shares.frame()


class GatewayShares:
    """``gateway_shares`` accumulated over parts of the orders: completed orders counted
    per configuration, bin and gateway, then shared out."""

    def __init__(self, horizon: float, bin_s: float) -> None:
        self.horizon, self.bin_s = horizon, bin_s
        self.counts: pd.Series | None = None

    def add(self, orders: pd.DataFrame) -> None:
        """Orders with configuration, outcome, arrival_s, checkout_latency_s and gateway."""
        done = orders[orders["outcome"] == "completed"]
        end = done["arrival_s"] + done["checkout_latency_s"]
        binned = done.assign(time_s=(end // self.bin_s) * self.bin_s)
        binned = binned[binned["time_s"] + self.bin_s <= self.horizon]
        counts = binned.groupby(["configuration", "time_s", "gateway"], observed=True).size()
        self.counts = counts if self.counts is None else self.counts.add(counts, fill_value=0)

    def frame(self) -> pd.DataFrame:
        counts = self.counts
        if counts is None:
            return pd.DataFrame(columns=["configuration", "time_s", "gateway", "share"])
        counts = counts.sort_index().astype(np.int64)
        totals = counts.groupby(level=["configuration", "time_s"], observed=True).transform("sum")
        return pd.DataFrame((counts / totals).rename("share").reset_index())


def stock_over_time(timeline: pd.DataFrame) -> pd.DataFrame:
    """Units left and units oversold, per second, mean over replications (empty without a
    catalogue): configuration, second, stock_units, oversold_units."""
    if "stock_units" not in timeline.columns:
        return pd.DataFrame(columns=["configuration", "second", "stock_units", "oversold_units"])
    columns = ["stock_units", "oversold_units"]
    mean = timeline.groupby(["configuration", "second"], observed=True)[columns].mean()
    return pd.DataFrame(mean.dropna().reset_index())


def confirmations(summary: pd.DataFrame) -> pd.DataFrame:
    """Mean confirmations per channel, follow-ups and duplicates, per configuration."""
    columns = [
        c
        for c in (*CONFIRMATION_COLUMNS, "duplicate_submissions", "duplicate_orders")
        if c in summary.columns
    ]
    means = summary.groupby("configuration", sort=False, observed=True)[columns].mean()
    return pd.DataFrame(means.reset_index())
