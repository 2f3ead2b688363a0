"""Ticket printing: the ticket image, ESC/POS jobs, printer backends and print jobs."""
