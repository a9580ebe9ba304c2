"""Tests of the Teams edge (bot/channel/): HTTP, adapter, replies, storage, terminal."""
