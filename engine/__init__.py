"""The desk's BPM runtime: definitions and versions, instances, tasks, timers, SLAs, tickets.

No HTML and no request handling here: functions take a SQLAlchemy ``Session`` and
never commit; webforms, the CLI or the timer worker owns the transaction.

    definitions  deploy a BPMN/DMN bundle as new versions; pick a version
    instances    start processes, create tickets, the one write path (complete, claim, timers)
    tasks        human-task rows: the inbox, who may do what
    forms        camunda:formData → field definitions, validation, typed values
    tickets      numbers, the business projection, SLA clocks, search
    timers       the worker that fires due timers
    calendars    "N minutes in calendar C from T" → due time
    sandbox      RestrictedPython for every script and expression in a diagram
    users, audit users, roles, tokens; audit trail and notifications
    validation  checks a bundle before deploy (roles, forms, timers, scripts, lint)
    scenarios   process tests: scenarios run with mocked time in a child process
    drafts      process owners' unsaved work; versions: list, diff, deploy a draft, retire
    migration   move running instances to another version, with a preview
    paths       which steps and flows an instance has taken (for the diagram)
"""
