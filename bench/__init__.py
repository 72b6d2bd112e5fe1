"""Benchmarks with their targets (``make bench``); never part of the test run."""
