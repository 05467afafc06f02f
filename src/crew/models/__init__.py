"""Risk models behind one protocol: churn probability, fuzzy comprehensive evaluation, CLV."""
