"""The read models every screen, report and scheduled job reads."""
