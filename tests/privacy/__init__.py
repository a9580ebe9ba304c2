"""Tests of bot/privacy/ and what people do with it."""
