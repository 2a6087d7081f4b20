"""The HTTP API (litestar + msgspec): every command and query of the ledger as resources
under /api/, as the authenticated caller, through the application's one access gate."""
