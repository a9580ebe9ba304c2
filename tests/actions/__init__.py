"""Tests of bot/actions/ and what people do with it."""
