"""Targeting: channel decisions for declarations, selection plans for assessments, and the
effectiveness of targeting against random selection."""
