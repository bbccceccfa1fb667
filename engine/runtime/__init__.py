"""Executes BPMN on SpiffWorkflow; knows processes, tasks and timers, not what a
desk does with them (that is ``engine.desk``, which the runtime projects into).

    parser         Camunda parser that also reads candidate groups, assignee, properties
    serialization  spec stored once per version; instance state without it
    definitions    parse a bundle, restore stored specs, pick a version
    instances      start processes, create tickets, the one write path (complete, claim, timers)
    tasks          human-task rows: the inbox, who may do what
    forms          camunda:formData → field definitions, validation, typed values
    timers         the worker that fires due timers
    paths          which steps and flows an instance has taken (for the diagram)
    sandbox        RestrictedPython for every script and expression in a diagram
    safe_xml       parsing uploads with entities, DTDs and network access off
"""
