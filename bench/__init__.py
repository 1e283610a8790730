"""accord's measurement instruments: a raw baseline relay, a load generator and the figures.

Run ``python -m bench`` from the repository root; ``--quick`` for a short run,
``--only NAME`` for one figure. See ``docs/performance.md`` for the results.
"""
