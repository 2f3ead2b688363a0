"""CivicQueue performance harness (not part of the test suite).

`python -m bench.api` starts real server processes on SQLite and PostgreSQL and measures ticket-issue
throughput, issue latency at a fixed rate and call-next latency with many counters; see bench/api.py.
"""
