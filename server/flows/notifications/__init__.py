"""Notifications: who is told of an escalation, the words in each language, email delivery."""
