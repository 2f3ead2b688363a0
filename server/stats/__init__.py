"""Read-only statistics built from the event log and, for days past retention, from daily aggregates."""
