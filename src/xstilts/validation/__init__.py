"""Data validation: Great Expectations suites generated from the task catalogue."""
