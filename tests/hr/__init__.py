"""Tests of bot/hr/ and what people do with it."""
