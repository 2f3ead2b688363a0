"""Several server processes on PostgreSQL and Redis: cross-process events, call-next, and faults."""
