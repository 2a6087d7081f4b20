"""Trade-data ingest: whole-file validation of CSV exports (importer register, trade,
samples, declarations), import batches with provenance and row digests."""
