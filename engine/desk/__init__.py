"""The service-desk domain: what the runtime's steps mean to a desk.

    tickets    numbers, the business projection, SLA clocks, search
    calendars  "N minutes in calendar C from T" → due time (Chinese working days)
    users      users, roles, tokens, passwords and lockout
    audit      the audit trail and in-app notifications
"""
