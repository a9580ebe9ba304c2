"""Tests of the kernel (bot/core/): content, cards, escaping, logs."""
