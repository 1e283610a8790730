"""Set-up for the chaos scenario: the helpers live in ``chaos_support``.

pytest runs with ``--import-mode=importlib`` and there is no ``tests/__init__.py``,
so the helpers live in a plain module next to this file. It, the repo's ``bench``
(the relay subprocess helpers) and ``redis_support`` (tests/stores: a redis-server
for the multi-relay scenario) are on the path through ``pythonpath`` in pyproject.toml.
"""
