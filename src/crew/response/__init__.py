"""Response: playbooks, cases with owners and deadlines, notifications, blacklist."""
