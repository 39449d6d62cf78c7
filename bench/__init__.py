"""The benchmark suite behind `make bench`; every case runs in its own process."""
