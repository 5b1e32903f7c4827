"""The centre's numbers: KPIs from the task and audit tables (issue 16). A read room."""
