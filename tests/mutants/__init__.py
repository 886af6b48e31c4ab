"""Grading validity: catalogued student mistakes (mutants) and correct alternatives, graded
through the real path (`make mutants`, `python -m tests.mutants`; docs/validity.md).
tests/mutants/automatic/ holds the automatic mutants of a mutation tool."""
