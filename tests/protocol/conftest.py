"""Shared set-up for the protocol tests: the helpers live in ``protocol_support``.

pytest runs with ``--import-mode=importlib`` and there is no ``tests/__init__.py``,
so test modules cannot import each other; the helpers live in one plain module
next to this file, on the path through the ``pythonpath`` setting in pyproject.toml.
"""
