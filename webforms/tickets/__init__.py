"""Tickets (工单): the phone-call intake screen, the list, the ticket page.

``pages`` holds the blueprint.
"""
