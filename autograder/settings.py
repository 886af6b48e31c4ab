"""Course settings an instructor may change, in one place.

Test visibility follows Gradescope's values: "visible", "after_due_date",
"after_published" or "hidden". Any hidden test hides the total score from students until
grades are published; the summary shown at once counts visible tests only.
"""

VISIBILITY = {
    "public": "visible",  # tests/public: students ran these with `make check`
    "hidden": "after_published",  # tests/hidden: shown once the instructor publishes grades
}

# The unprivileged user that runs student code in the Gradescope container (setup.sh
# creates it; run_autograder passes it as AUTOGRADER_STUDENT_USER).
STUDENT_USER = "student"

# What Exercises 2-4 run on when they call Exercise 1 (they build on its RNN): a course
# policy on cascading penalties (docs/instructors.md, "Course settings").
#   "own"        the student's own ex_01_basic_rnn.py: a mistake there can cost points
#                in Exercises 2-4 too (their tests then say the cause is in Exercise 1).
#   "reference"  the reference Exercise 1, run in a trusted process of its own and reached
#                from the student's process only by calls that carry plain data
#                (autograder/sandbox/reference_ex01.py): a mistake in Exercise 1 costs
#                Exercise 1's points only. No reference code enters a student process.
# `python -m autograder grade/grade-all --exercise1 own|reference` overrides it per run.
EXERCISE1_POLICIES = ("own", "reference")
EXERCISE1_POLICY = "own"
