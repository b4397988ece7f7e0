"""A compiled execution path for the hot read queries (see ``plan.py`` for what qualifies).

Documents outside that shape, and every error case, take Strawberry's ordinary path, so
results and errors are the same on both paths; a test runs every fast query both ways.
"""
