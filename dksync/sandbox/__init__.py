"""Local stand-ins for the Moment and DK+ APIs, for tests, the demo and benchmarks.

Both are real HTTP servers on 127.0.0.1, faithful to the contracts in the spec, with
knobs for latency, rate limits and faults, and admin paths under ``/_sandbox/`` that the
real APIs do not have.
"""
