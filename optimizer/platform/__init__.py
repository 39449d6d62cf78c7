"""The ad platform's own structure in the plan: shared budgets, bid strategies, keyword bids.

Pure core: plain frozen dataclasses in, plain values out; no database, no web.
"""
