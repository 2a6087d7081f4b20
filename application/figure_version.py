"""The version of how the analysts' picture and its charts are drawn, in a module of its
own so that the code that only looks figures up (interfaces.analyst_refresh, run after
every bulk run) need not load the charts' code (matplotlib) to know it."""

FIGURES_VERSION = "3"
"""Raised whenever application.analyst_picture or application.analyst_charts draw
differently: figures stored under another version are never served
(infrastructure.figure_store)."""
