"""Automatic mutants (mutmut) of the solution blocks; see __main__.py and triage.json."""
