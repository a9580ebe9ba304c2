"""Tests of bot/outbox/ and what people do with it."""
