"""Realistic synthetic customer data with injected, recorded risk episodes (ground truth).

`simulate(config, out_dir)` writes the five canonical tables (customers, transactions,
interactions, events, outcomes) plus `episodes`, the ground truth that only the evaluation
may read. See docs/simulator.md for the generative process.
"""

from __future__ import annotations

from crew.simulator.config import SimulationConfig, SimulationSummary
from crew.simulator.engine import simulate

__all__ = ["SimulationConfig", "SimulationSummary", "simulate"]
