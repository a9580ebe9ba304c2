"""The monthly EDI bulletin: authoring (Markdown + front matter), the working-day calendar,
publishing through the outbox, feedback, reach and unsubscribes."""
