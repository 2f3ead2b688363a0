"""The fan-out baseline: a bare asyncio `websockets` server, in a process of its own.

`python -m bench.ws_baseline --port P --control-port C` speaks just enough Engine.IO/Socket.IO for
bench.sio_clients (the open packet; a namespace connect answered with its acknowledgement and a `snapshot`
event), so the same clients measure both servers. Each line `call SEQ` on the control TCP port makes it send one
`ticket_called` event, of about the size of CivicQueue's, encoded once, to every connected client with
websockets.broadcast(); it then answers `ok N` (N = clients sent to).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
from datetime import UTC, datetime

from websockets.asyncio.server import ServerConnection, broadcast, serve
from websockets.exceptions import ConnectionClosed

OPEN = "0" + json.dumps({"sid": "baseline", "upgrades": [], "pingInterval": 25000, "pingTimeout": 20000,
                         "maxPayload": 1000000})


def event(namespace: str, name: str, payload: dict) -> str:
    """A Socket.IO EVENT packet inside an Engine.IO MESSAGE packet, as python-socketio writes it."""
    return f"42{namespace}," + json.dumps([name, payload])


def ticket_called(seq: int) -> dict:
    """A payload shaped like CivicQueue's server/realtime/payloads.py called()."""
    return {"seq": seq, "office": "mitte", "code": f"A{seq % 1000:03d}", "counter": "schalter-1",
            "counter_name": "Schalter 1", "service": "ausweis", "recall": False, "lang": "de",
            "at": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")}


class Baseline:
    """The connected clients and the handlers of the websocket and control servers."""

    def __init__(self) -> None:
        self.clients: set[ServerConnection] = set()
        self.seq = 0

    async def client(self, ws: ServerConnection) -> None:
        """Engine.IO open, namespace connect, snapshot; then keep the client until it leaves."""
        await ws.send(OPEN)
        request = await ws.recv()
        if not (isinstance(request, str) and request.startswith("40")):
            return
        namespace = request[2:].partition(",")[0] or "/"
        await ws.send(f"40{namespace}," + json.dumps({"sid": f"b{id(ws):x}"}))
        await ws.send(event(namespace, "snapshot", {"seq": self.seq, "calls": [], "waiting": []}))
        self.clients.add(ws)
        try:
            async for _ in ws:  # pongs and anything else are ignored
                pass
        except ConnectionClosed:
            pass
        finally:
            self.clients.discard(ws)

    async def control(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Serve `call SEQ` lines: broadcast one ticket_called to everyone, answer `ok N`."""
        writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            while line := await reader.readline():
                words = line.split()
                if len(words) != 2 or words[0] != b"call" or not words[1].isdigit():
                    writer.write(b"error: expected 'call SEQ'\n")
                    continue
                self.seq = int(words[1])
                broadcast(self.clients, event("/display", "ticket_called", ticket_called(self.seq)))
                writer.write(f"ok {len(self.clients)}\n".encode())
                await writer.drain()
        finally:
            writer.close()


async def serve_forever(host: str, port: int, control_port: int, deflate: bool) -> None:
    """Run both servers until the process is stopped."""
    baseline = Baseline()
    compression = "deflate" if deflate else None
    async with serve(baseline.client, host, port, compression=compression, ping_interval=None, max_size=2**20):
        control = await asyncio.start_server(baseline.control, host, control_port)
        async with control:
            await control.serve_forever()


def main(argv: list[str] | None = None) -> None:
    """The command line."""
    p = argparse.ArgumentParser(prog="python -m bench.ws_baseline", description=__doc__.split("\n")[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True, help="websocket port")
    p.add_argument("--control-port", type=int, required=True, help="TCP port for 'call SEQ' lines")
    p.add_argument("--deflate", action="store_true", help="accept permessage-deflate (websockets' defaults)")
    args = p.parse_args(argv)
    asyncio.run(serve_forever(args.host, args.port, args.control_port, args.deflate))


if __name__ == "__main__":
    main()
