"""Setting a platform up: reference data (organisation, first deployment), demo accounts and projects.

Used by the CLI, the tests and the benchmarks; may import every other service.
"""
