"""Use cases of Compliance Ledger: the case commands over one event store, workflow steps,
idempotency receipts, queries, history and as-of replay; trade-data ingest (ingest), risk
runs (risk) and targeting (targeting)."""
