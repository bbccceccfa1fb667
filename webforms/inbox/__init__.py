"""The inbox (收件箱): my tasks, my groups' tasks, all open tasks.

``pages`` holds the blueprint.
"""
