"""Risk runs: value tiers, beta-binomial compliance rates and explained risk scores for
every importer, recorded as RiskAssessed events with the results tables."""
