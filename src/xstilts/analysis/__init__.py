"""Analysis of a run: score tables, gains, statistics, report."""
