"""Conversations, a folder per feature, one conversation per module (see docs/architecture.md,
"One way to write a conversation"); each reads the person's turn through `bot.channel.turn`."""
