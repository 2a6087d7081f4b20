"""Read models: views (work list, account register, compliance, enforcement and plan
statistics, audit log) kept current from the notification log exactly once, their stores
on SQLite and PostgreSQL, the runner that catches them up or follows the log live, the
worker, and the queries the command line reads them with."""
