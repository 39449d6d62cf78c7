"""File readers: ad-platform exports and canonical CSVs in, validated stored-shape frames out."""

from optimizer.io.formats import FORMATS
from optimizer.io.reader import read_performance
from optimizer.io.writer import write_canonical_csv

__all__ = ["FORMATS", "read_performance", "write_canonical_csv"]
