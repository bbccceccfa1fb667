"""The desk's BPM engine: no HTML and no request handling.

Functions take a SQLAlchemy ``Session`` and never commit; webforms, the CLI or the
timer worker owns the transaction. Four wings, imports running one way
(authoring → runtime → desk → the root modules; reporting → desk):

    authoring/  the owners' and admins' cycle: validation, drafts, scenarios,
                samples, versions (deploy), migration
    runtime/    executes BPMN: definitions, instances (the one write path), tasks,
                forms, timers, paths, parser, serialization, sandbox, safe_xml
    desk/       the service-desk domain the runtime projects into: tickets and SLA
                clocks, calendars, users, audit and notifications
    reporting/  KPIs, scorecards, history import; reads the desk's tables only

    models, db, clock, errors, bench   shared by every wing
"""
