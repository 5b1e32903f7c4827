"""Writes of the desk's records: a call logged or turned into a case, a shift checked, a
hand-over written."""
