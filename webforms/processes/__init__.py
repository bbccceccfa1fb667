"""Processes and versions (流程/版本): the modeler, drafts, tests, deploy, migration.

``pages`` holds the blueprint.
"""
