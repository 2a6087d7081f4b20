"""The trade-compliance domain: aggregates, events, value objects and business rules.

Pure: nothing here performs I/O or reads a clock; time always arrives as an argument.
"""
