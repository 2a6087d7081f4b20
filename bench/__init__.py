"""Benchmarks for the Compliance Ledger: `python -m bench.run [--quick]`.

Every figure is a ratio against a baseline measured in the same run on the same database,
never an absolute timed assertion. See docs/benchmarks.md for the latest full run.
"""
