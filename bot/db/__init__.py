"""Database: engine, schema (models.py), migrations and small repositories."""
