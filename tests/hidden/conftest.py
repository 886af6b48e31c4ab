"""Hidden tests use the same fixtures as the public ones (and so the same loader)."""

from tests.public.conftest import ex01, ex02, ex03, ex04, student_tmp  # noqa: F401
