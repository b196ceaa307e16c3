"""Benchmarks: figures, not tests (pytest does not collect this folder). Run
`.venv/bin/python tests/benchmarks/run.py`."""
