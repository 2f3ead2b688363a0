"""CivicQueue performance harness (not part of the test suite).

`make bench` (`python -m bench.suite`) runs every benchmark here and writes bench/results.md; each one also runs
alone (`python -m bench.api`, `bench.fanout`, `bench.rss`, `bench.day`, `bench.printing`, `bench.stats`,
`bench.estimates`) and writes its own bench/results-NAME.md.
"""
