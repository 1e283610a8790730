"""Shared set-up for the relay tests: the helpers live in ``server_support``.

pytest runs with ``--import-mode=importlib`` and there is no ``tests/__init__.py``,
so the helpers live in one plain module next to this file, on the path through the
``pythonpath`` setting in pyproject.toml.
"""
