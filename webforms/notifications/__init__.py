"""The notification bell (通知).

``pages`` holds the blueprint.
"""
