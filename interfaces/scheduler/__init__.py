"""The scheduler: the job registry (jobs), the built-in integrity jobs (seal, verify), the
runner that ticks due jobs on the leader instance (runner), and the module that registers
every built-in job (builtin)."""
