"""Adapters to the outside world: settings, the SQLite and PostgreSQL stores and schema,
event encoding, the hash chain, signing keys, seals and verification, CSV files, and the
ingest, risk and targeting tables with set-based account reads."""
