"""Roles and what each may do (DESIGN: the contract's role list)."""

STAFF_ROLES = ("clerk", "supervisor", "admin", "agent")
DEVICE_KINDS = ("kiosk", "display")
ALL_ROLES = STAFF_ROLES + DEVICE_KINDS
# Roles that need an office: their power ends at its door. Admins and agents may be city-wide.
OFFICE_BOUND = ("clerk", "supervisor", "kiosk", "display")

READ_OFFICES = ("kiosk", "clerk", "supervisor", "admin", "agent")
READ_SERVICES = ("kiosk", "clerk", "supervisor", "admin", "agent")
READ_COUNTERS = ("clerk", "supervisor", "admin")
READ_QUEUE = ("clerk", "supervisor", "admin")
ISSUE = ("kiosk", "clerk", "supervisor", "admin", "agent")
WORK_COUNTER = ("clerk", "supervisor", "admin")
READ_STATS = ("supervisor", "admin")
STOP_ISSUE = ("supervisor", "admin")  # "no more tickets" for a service or the office
CONFIGURE = ("admin",)
PRINT_JOBS = ("kiosk", "clerk", "supervisor", "admin")  # a kiosk follows and retries its own office's jobs
REPRINT = ("clerk", "supervisor", "admin")
READ_DEVICES = ("clerk", "supervisor", "admin")
READ_AUDIT = ("supervisor", "admin")  # supervisors: their offices' entries and their own
