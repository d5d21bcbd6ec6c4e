"""Benchmark harness: authtokens beside DRF tokens, knox and simplejwt (see benchmarks/README.md)."""
