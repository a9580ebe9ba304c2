"""Tests of bot/incidents/ and what people do with it."""
