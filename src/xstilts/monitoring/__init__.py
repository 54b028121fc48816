"""Monitoring: Prometheus metrics of stages and runs."""
