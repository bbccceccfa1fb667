"""The process owners' and admins' cycle: check a bundle, keep drafts, run process
tests, deploy versions, move running instances between them.

    validation  checks a bundle before deploy (roles, forms, timers, scripts, lint)
    samples     sample task data for evaluating timer expressions during validation
    drafts      process owners' unsaved work
    scenarios   process tests: scenarios run with mocked time in a child process
    versions    deploy a bundle or a draft as new versions; list, diff, retire
    migration   move running instances to another version, with a preview
"""
