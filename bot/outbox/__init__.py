"""The outbox: the one way a proactive message leaves the bot.

A feature calls `Outbox.enqueue` inside its own transaction: one `outbox_messages` row (the
activity, sealed) and one `outbox_deliveries` row per recipient who has an active stored
conversation reference. Nothing is sent then. `OutboxWorker`s claim due deliveries, send
each through the adapter's `continue_conversation` within one rate limit, and mark them.

Delivery guarantees (docs/outbox.md has the whole argument):

* A claim is a lease (`claim_token`, `lease_until`) taken in one short transaction:
  `FOR UPDATE SKIP LOCKED` on PostgreSQL; on SQLite every write transaction is
  `BEGIN IMMEDIATE`, so claims are serialised. Two workers never hold the same row.
* Outcomes are written in batches (every `flush_seconds`, 50 ms, or 50 outcomes), each row
  only if the writer still holds its claim. A worker that dies leaves its unsent rows claimed
  until the lease expires; then another worker takes them. Nobody is missed.
* The window that cannot be closed from this side: the connector accepted a POST and the
  worker died before that outcome was written (at most ~50 ms of sends plus those in flight),
  or the POST timed out after Teams received it. Those deliveries are sent again
  (at-least-once). The Bot Connector API has no idempotency key. A stop or a cancellation
  (shutdown) writes what was sent before giving up, so only a hard kill leaves that window.
* A worker starts a send only while its lease has at least the send timeout left, so a lease
  never expires under a send in progress; what it could not start in time it releases.
"""
