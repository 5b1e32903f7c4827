"""Reads of the desk's records (the hotline log, shift checks, hand-overs)."""
