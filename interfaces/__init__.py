"""Entry points (CLI now; HTTP, web pages and scheduler later) and the composition root."""
