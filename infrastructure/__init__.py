"""Adapters to the outside world: settings, event stores, encoding, hash chain."""
