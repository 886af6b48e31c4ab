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
