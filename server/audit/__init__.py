"""The auditors' room: search across cases and their events, and the events as files.

A read room (the layer of the case selectors): it reads models and never writes.
"""
