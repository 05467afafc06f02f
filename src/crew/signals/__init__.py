"""Warning signals: scores against each customer's own baseline, higher = riskier."""
