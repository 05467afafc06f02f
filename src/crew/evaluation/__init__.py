"""Evaluation: replay history and measure how right, early and useful warnings were."""
