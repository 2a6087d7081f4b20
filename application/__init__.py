"""Use cases of Compliance Ledger: commands, queries, history and as-of replay."""
