"""Tests of bot/bulletins/ and what people do with it."""
