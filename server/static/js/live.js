// A live connection to one Socket.IO namespace: snapshot on (re)connect, deltas in seq order,
// a resync request on any gap, and `state` messages that replace the whole view. Never polls.
import { io } from "/vendor/socket.io.esm.min.js";

export function connectLive(namespace, { auth = {}, onSnapshot, onDelta, onState, onConnection } = {}) {
  let seq = null;
  const socket = io(namespace, { transports: ["websocket"], auth, reconnectionDelayMax: 5000 });

  socket.on("snapshot", (snap) => {
    seq = snap.seq;
    onSnapshot?.(snap);
  });
  socket.on("state", (state) => onState?.(state));

  const delta = (name) => (d) => {
    if (seq === null || d.seq <= seq) return; // before the snapshot, or already contained in it
    if (d.seq > seq + 1) { // a gap: something was missed, so start over from a fresh snapshot
      seq = null;
      socket.emit("resync");
      return;
    }
    seq = d.seq;
    onDelta?.(name, d);
  };
  socket.on("ticket_called", delta("ticket_called"));
  socket.on("queue_changed", delta("queue_changed"));

  socket.on("connect", () => onConnection?.("connected"));
  socket.on("disconnect", () => { seq = null; onConnection?.("disconnected"); });
  socket.on("connect_error", (err) => onConnection?.("error", err));
  return socket;
}
