"""Private records: what happened, written down by the person it happened to, for them alone."""
