"""Voluntary self-declaration of protected characteristics. See docs/declarations.md."""
