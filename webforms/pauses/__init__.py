"""Pausing a ticket from its page (挂起/恢复) and the pause ledger shown there.

``pages`` holds the blueprint.
"""
