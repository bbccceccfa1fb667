"""The duty roster page (值班表): the week's shifts, who is on duty now, swaps (顶岗).

``pages`` holds the blueprint.
"""
