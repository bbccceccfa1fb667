"""KPIs, scorecards and history import. Reads the desk's tables (``engine.desk``,
``engine.models``) only; never a workflow's state."""
