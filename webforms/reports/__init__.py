"""Reports (报表): KPIs with their targets and charts, the tickets behind each figure, the two
scorecards with the lead's entries, downloads and the admin's history import.

``pages`` holds the blueprint.
"""
