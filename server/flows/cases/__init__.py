"""Cases (process instances) and their tasks: the one write path, and the reads that check
who asks."""
