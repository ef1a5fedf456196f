"""Helpers shared by the test suites (imported as `tests.helpers.NAME`)."""
