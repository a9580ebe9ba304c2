"""bulletins."""
