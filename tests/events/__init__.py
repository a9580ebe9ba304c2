"""Tests of bot/events/ and what people do with it."""
