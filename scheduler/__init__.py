"""Every timed job, declared once with a stable id, in Europe/London time."""
