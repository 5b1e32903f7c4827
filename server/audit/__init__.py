"""The auditors' room: search across cases and their events, the events as files, one
case's whole trail (``trail``) and the words of its events (``words``).

A read room (the layer of the case selectors): it reads models and never writes.
"""
