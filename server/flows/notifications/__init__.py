"""Notifications: who is told of an escalation, the words in each language, and their
delivery on each channel (email, ...)."""
