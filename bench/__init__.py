"""Benchmarks, run as files; a package so mypy names bench/achievements.py bench.achievements."""
