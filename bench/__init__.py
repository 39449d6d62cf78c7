"""The benchmark suite behind `make bench`; each case runs in its own process (honest peak memory)."""
