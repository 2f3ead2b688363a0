"""Authentication: API and device tokens, staff users, roles."""
