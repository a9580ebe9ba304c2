"""Conversations, one per module; each is a botbuilder ComponentDialog."""
