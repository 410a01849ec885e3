"""The store's own currencies as payment channels: stored value and points,
held in the chain's ledger at the server (sync.server.ledger). A plugin: the
core's router and channel interface know nothing of it."""
