"""The kiosk agents: print jobs go to a kiosk's agent through its own room on /kiosk (any process may send)."""

from __future__ import annotations

from . import socketio


def agent_room(device_id: int) -> str:
    return f"agent:{device_id}"


def send_job(device_id: int, payload: dict) -> None:
    """`print_job` to the agent of one kiosk (after the job's commit)."""
    socketio.emit("print_job", payload, namespace="/kiosk", to=agent_room(device_id))


def send_config(sid: str, config: dict) -> None:
    socketio.emit("agent_config", config, namespace="/kiosk", to=sid)


def push_config(device_id: int, config: dict) -> None:
    """New printer settings to a kiosk's agent wherever it is connected (after the change's commit)."""
    socketio.emit("agent_config", config, namespace="/kiosk", to=agent_room(device_id))
