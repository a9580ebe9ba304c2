"""Tests of bot/declarations/ and what people do with it."""
