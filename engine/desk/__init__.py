"""The service-desk domain: what the runtime's steps mean to a desk.

    tickets    numbers, the business projection, SLA clocks, search
    calendars  "N minutes in calendar C from T" → due time (Chinese working days)
    users      users, roles, tokens, passwords and lockout
    audit      the audit trail and in-app notifications
    notes          internal notes and customer-visible replies on a ticket
    attachments    files on a ticket: the file store, type checks by content
    customers      the customer archive and each ticket's link to it
    knowledge      the knowledge base: drafts, review, versions, Chinese search, uses
    onsite         the on-site service record with the customer's signature
    announcements  notices with a validity period
    notifications  who hears what: bell and mail for staff, mail for customers, templates, preferences
    outbox     sending the mail outbox over SMTP from the worker (retries, never twice)
    escalation the escalation chain: warnings and breaches up to the lead, PM or desk manager, once
    pauses     the pause ledger (挂起): parked timers, due times moved by the paused working time
    roster     the duty roster (值班表): shifts, who is on duty, swaps, out-of-hours routing
    workdays   the admins' calendar: hours per season, extra closed/working days
"""
