"""ppc-budget-optimizer: split a capped PPC budget across campaigns and keywords, and prove why."""

__all__ = ["__version__"]

__version__ = "0.1.0"
