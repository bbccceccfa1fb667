"""Calendars (工作日历): the desk's opening hours per season and extra closed or working days.

``pages`` holds the blueprint.
"""
