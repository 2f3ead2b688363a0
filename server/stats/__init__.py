"""Read-only statistics built from the event log."""
