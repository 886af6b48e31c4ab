"""The boundary between the grader and untrusted student code."""
