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
"""
