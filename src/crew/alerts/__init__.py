"""Alert lifecycle: open on a breach, deduplicate, route, silence, resolve."""
