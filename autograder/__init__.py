"""Grading engine: trusted side of the assignment (never ships to students)."""
