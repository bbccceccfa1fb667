"""Task pages: a user task's form, rendered from its camunda:formData, and the result.

``pages`` holds the blueprint.
"""
