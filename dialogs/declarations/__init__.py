"""declarations."""
