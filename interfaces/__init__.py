"""Entry points and composition: the `compliance` command line (interfaces.cli), the
composition roots that build the application and its analysis services on the configured
store (composition, analysis_composition), and the demo populations (the cases demo, the
national data files)."""
