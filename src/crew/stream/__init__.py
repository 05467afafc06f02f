"""Real-time monitoring: workers feeding events through the pipeline."""
