"""Members and the chain's stored-value and points ledger (shared by every store)."""
