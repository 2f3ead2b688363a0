"""gunicorn settings for one CivicQueue process (one per port; see civicqueue@.service and README).

Exactly one worker, of class gevent: Socket.IO keeps per-client state in the process that holds the
connection, and gunicorn's own balancing across workers is not sticky, so more workers per process would break
long-polling clients. Scale out with more processes (ports) behind nginx instead. The plain gevent worker
serves websockets through simple-websocket (python-engineio finds the socket under `gunicorn.socket`); the
geventwebsocket worker would need gevent-websocket, which is unmaintained.
"""

import os

worker_class = "gevent"
workers = 1
# Concurrent connections of the one worker: displays, counters and kiosks hold one each (measured: one gevent
# process held 19,000). Raise LimitNOFILE in the unit along with it.
worker_connections = int(os.environ.get("QMS_WORKER_CONNECTIONS", "10000"))
bind = os.environ.get("QMS_BIND", "127.0.0.1:5000")
# Long-lived websockets: the worker must not be killed for being "silent"; gevent's worker heartbeats anyway.
timeout = 60
# On SIGTERM: stop accepting, let running requests finish; websocket clients reconnect to another process.
graceful_timeout = 10
keepalive = 75  # longer than nginx's upstream keepalive_timeout (60 s), so nginx closes idle connections first
# Requests come from nginx on the same machine: trust its X-Forwarded-* (the app's ProxyFix does the rest).
forwarded_allow_ips = "127.0.0.1,::1"
accesslog = None  # nginx logs requests; errors and the app's own log go to stderr (the journal)
errorlog = "-"
loglevel = os.environ.get("QMS_LOG_LEVEL", "info").lower()
# The app itself refuses websocket compression (server.serve.without_websocket_compression).
proc_name = "civicqueue"


def post_fork(server, worker):
    """The app's own log lines (server.*) go to the journal with the worker's pid."""
    import logging

    logging.basicConfig(level=os.environ.get("QMS_LOG_LEVEL", "INFO"),
                        format="%(levelname)s %(name)s [%(process)d]: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
