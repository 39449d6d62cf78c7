"""The benchmark suite behind `make bench`: each case runs in its own process for honest peak memory."""
