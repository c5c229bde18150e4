"""Benchmarks, run as files (`python bench/<name>.py`).

A package only so that mypy tells bench/perks.py and bench/achievements.py apart from the apps.
"""
