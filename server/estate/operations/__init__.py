"""What processes may ask of the registry: one service-task operation per module.

Each module declares ``OPERATION`` (:class:`server.operations.ServiceOperation`); the
estate app registers every module here when Django starts, so a new operation is a new
file. Modules whose name starts with ``_`` hold what several operations share.
"""
