"""The people of bench.day, as threads of the benchmark process: per office, kiosks that issue tickets on a
time-scaled arrival schedule, and one clerk per counter who calls the next ticket, waits for the citizen, serves
(start, finish), now and then transfers to another service or marks a no-show. Waits and service times are the
simulation test's (tests/support/simulation.DayPlan), divided by the same time scale as the arrivals.

Clerks learn of waiting tickets from a semaphore per office (released by each issue and transfer), as real
clerks learn of them from their screens, so nobody polls and every call-next finds a ticket.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from tests.support.simulation import DayPlan

from .client import Client
from .load import run_threads
from .stats import HOURS

DAY = DayPlan()
API = "/api/v1"


class Connection(Client):
    """A kiosk's or clerk's keep-alive connection, dropped after a minute idle as nginx drops its upstream ones
    (keepalive_timeout 60 s): gunicorn closes connections idle for its `keepalive` (75 s), and a POST sent on
    one it has just closed fails without an answer."""

    idle = 60.0
    used = 0.0

    def request(self, method: str, path: str, payload=None):
        if time.perf_counter() - self.used > self.idle:
            self.close()
        try:
            return super().request(method, path, payload)
        finally:
            self.used = time.perf_counter()


@dataclass(frozen=True)
class Plan:
    """A day: `tickets` spread over the offices, opening hours (bench.stats.HOURS) replayed in `seconds`."""

    tickets: int
    offices: list[str]
    counters: int
    seconds: float
    kiosks: int = 2
    seed: int = 7
    transfer: float = 0.03  # share of served tickets sent on to another service

    @property
    def scale(self) -> float:
        """Real seconds of the day per wall-clock second of the replay."""
        return len(HOURS) * 3600 / self.seconds

    def minutes(self, real_minutes: float) -> float:
        """Wall-clock seconds for some real minutes of the day."""
        return real_minutes * 60 / self.scale


def arrivals(plan: Plan) -> dict[str, list[tuple[float, str]]]:
    """Per office its tickets: (seconds from the start of the replay, service), in time order. Hours are drawn
    by bench.stats.HOURS' weights, services by the simulation's mix."""
    rng, per_hour = random.Random(plan.seed), plan.seconds / len(HOURS)
    hours, weights = list(range(len(HOURS))), list(HOURS.values())
    services, mix = list(DAY.mix), list(DAY.mix.values())
    out: dict[str, list[tuple[float, str]]] = {o: [] for o in plan.offices}
    for n in range(plan.tickets):
        at = (rng.choices(hours, weights)[0] + rng.random()) * per_hour
        out[plan.offices[n % len(plan.offices)]].append((at, rng.choices(services, mix)[0]))
    return {o: sorted(tickets) for o, tickets in out.items()}


@dataclass
class Office:
    """One office's shared state: its schedule, the waiting signal and how many tickets are still open."""

    slug: str
    schedule: list[tuple[float, str]]
    waiting: threading.Semaphore = field(default_factory=lambda: threading.Semaphore(0))
    lock: threading.Lock = field(default_factory=threading.Lock)
    open_tickets: int = 0
    issued: int = 0

    def closed(self) -> bool:
        """Every ticket of the schedule issued, and none left open."""
        with self.lock:
            return self.issued == len(self.schedule) and self.open_tickets == 0

    def add(self, n: int) -> None:
        with self.lock:
            self.open_tickets += n


@dataclass
class Log:
    """Everything the people saw: per action (latency s, HTTP status), the issue lag behind the schedule, which
    tickets were called (by call-next) and transferred, and anything unexpected."""

    actions: dict[str, list[tuple[float, int]]] = field(default_factory=lambda: defaultdict(list))
    lags: list[float] = field(default_factory=list)
    issued: list[int] = field(default_factory=list)
    called: list[int] = field(default_factory=list)
    calls_by_office: Counter = field(default_factory=Counter)
    transferred: list[int] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    last_done: float = 0.0

    def send(self, client: Client, action: str, path: str, body: dict | None = None):
        """POST, record latency and status; the reply (None on a connection error, which is recorded)."""
        try:
            reply = client.post(API + path, body)
        except OSError as exc:
            self.problems.append(f"{action}: {exc!r}")
            return None
        self.actions[action].append((reply.seconds, reply.status))
        if reply.status >= 300:
            self.problems.append(f"{action}: HTTP {reply.status} {str(reply.body)[:120]}")
        self.last_done = time.perf_counter()
        return reply


class Day:
    """The replay: `run(start)` until every office is closed; `ports[i]` is the i-th server process."""

    def __init__(self, plan: Plan, host: str, ports: list[int], tokens: dict[str, dict[str, str]]):
        self.plan, self.host, self.ports, self.tokens = plan, host, ports, tokens
        self.offices = [Office(slug, schedule) for slug, schedule in arrivals(plan).items()]
        self.log = Log()
        self.deadline = math.inf

    def over(self) -> bool:
        """Past the time limit: everyone goes home, whatever is left (the final checks will show it)."""
        return time.perf_counter() > self.deadline

    def client(self, office: int, n: int, role: str) -> Client:
        """A keep-alive client of process (office + n) mod processes, with the office's `role` token."""
        return Connection(self.host, self.ports[(office + n) % len(self.ports)], self.tokens[self.offices[office].slug]
                      [role], timeout=120)

    def run(self, start: float, limit: float) -> None:
        """Every kiosk and clerk of every office, until all are done or `limit` seconds have passed; `start` is
        the perf_counter of opening time."""
        self.deadline = start + limit
        people = [(o, k, self.kiosk) for o in range(len(self.offices)) for k in range(self.plan.kiosks)]
        people += [(o, c, self.clerk) for o in range(len(self.offices)) for c in range(self.plan.counters)]
        run_threads(len(people), lambda i: people[i][2](people[i][0], people[i][1], start))

    def kiosk(self, o: int, k: int, start: float) -> None:
        """Issue every k-th ticket of the office's schedule at its time (kiosks share the office's arrivals)."""
        office, client = self.offices[o], self.client(o, 0, "kiosk")
        try:
            for n in range(k, len(office.schedule), self.plan.kiosks):
                if self.over():
                    return
                at, service = office.schedule[n]
                time.sleep(max(0.0, start + at - time.perf_counter()))
                self.log.lags.append(time.perf_counter() - start - at)
                reply = self.log.send(client, "issue", f"/offices/{office.slug}/tickets",
                                      {"service": service, "request_id": f"day-{office.slug}-{n}"})
                with office.lock:
                    office.issued += 1
                if reply is not None and reply.status == 201:
                    self.log.issued.append(reply.body["id"])
                    office.add(1)
                    office.waiting.release()
        finally:
            client.close()

    def clerk(self, o: int, c: int, start: float) -> None:
        """Serve tickets at counter c until the office is closed."""
        office, client = self.offices[o], self.client(o, c, "clerk")
        rng = random.Random(f"{self.plan.seed}-{o}-{c}")
        try:
            while not office.closed() and not self.over():
                if office.waiting.acquire(timeout=0.1):
                    self.serve(office, c, client, rng)
        finally:
            client.close()

    def serve(self, office: Office, c: int, client: Client, rng: random.Random) -> None:
        """One citizen: call next, wait for them, then no-show, or start, serve and finish (or transfer)."""
        log, plan = self.log, self.plan
        reply = log.send(client, "call-next", f"/offices/{office.slug}/counters/counter-{c + 1:02d}/call-next")
        if reply is None or reply.status != 200:
            office.waiting.release()  # the ticket still waits; let someone try again
            time.sleep(0.05)
            return
        ticket, service = reply.body["id"], reply.body["service"]
        log.called.append(ticket)
        log.calls_by_office[office.slug] += 1
        if rng.random() < DAY.no_show:
            time.sleep(plan.minutes(DAY.no_show_after))
            log.send(client, "no-show", f"/tickets/{ticket}/no-show")
            office.add(-1)
            return
        time.sleep(plan.minutes(rng.lognormvariate(math.log(DAY.walk[0]), DAY.walk[1])))
        log.send(client, "start", f"/tickets/{ticket}/start")
        median, sigma = DAY.service_times[service]
        time.sleep(plan.minutes(rng.lognormvariate(math.log(median), sigma)))
        if rng.random() < plan.transfer:
            other = rng.choice([s for s in DAY.mix if s != service])
            moved = log.send(client, "transfer", f"/tickets/{ticket}/transfer", {"service": other})
            if moved is not None and moved.status == 200:
                log.transferred.append(ticket)
                office.waiting.release()
                return
        log.send(client, "finish", f"/tickets/{ticket}/finish")
        office.add(-1)
