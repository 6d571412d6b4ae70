"""Fault scenarios on the local cluster (`make test-cluster`; the cluster must be up: `make cluster`).

During a burst of citizen submissions through the load balancer (real form with CSRF token and
submission key, a distinct reporter email each):

a0. only the leader's postgres is killed (`kill -9` of the postmaster): Patroni, still holding the leader
   key, restarts it in place after crash recovery; the same counts as in a.
a. the leader's node is lost: `kill -9` of its Patroni and its postgres. Patroni promotes the synchronous
   replica. Counted: acknowledged tracking codes missing afterwards (must be 0), submissions that
   failed (each must be the translated 503 page, and re-sent with the same form must land exactly
   once), seconds until submissions succeed again, confirmation emails delivered (each exactly once).
b. one web node is killed (`kill -9` of its gunicorn master and workers): no failed submission, nothing
   lost, the load balancer routes around it.
c. the old leader's node is started again and rejoins as a (synchronous) replica.

    python deploy/cluster/scenarios.py [--runs N] [--clients 6]

Exit status 0 only if every run met every condition; the figures are printed as a table.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
import uuid
from collections import Counter
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path

import psycopg

HERE = Path(__file__).resolve().parent
CLUSTER = HERE / "cluster.sh"
DIR = Path(os.environ.get("CLUSTER_DIR", "/tmp/lapor-cluster"))  # noqa: S108 (as cluster.sh; root-owned)
WEB = ("127.0.0.1", 5180)
REST = {"pg1": 8008, "pg2": 8009}
WEB_PORTS = {"web1": 5183, "web2": 5184}
SLUG = "banjarmasin"
RECEIVED = re.compile(r"/lapor/diterima/([A-Z]{2,5}-\d{2}-\d{4,6})\?t=")
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
KEY = re.compile(r'name="submission_key"[^>]*value="([0-9a-f]{32})"')
#: The 503 page in Indonesian (the default language): "Service temporarily unavailable".
UNAVAILABLE_ID = "Layanan sementara tidak tersedia"


def cluster_env() -> dict[str, str]:
    env = {}
    for line in (DIR / "app.env").read_text().splitlines():
        for part in shlex.split(line.removeprefix("export ")):
            if "=" in part:
                k, v = part.split("=", 1)
                env[k] = v
    return env


def admin_url() -> str:
    pw = (DIR / "secrets" / "postgres").read_text().strip()
    return f"postgresql://postgres:{pw}@127.0.0.1:5435/lapor"


def patroni_members() -> list[dict]:
    for port in REST.values():
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/cluster", timeout=2) as resp:  # noqa: S310
                return json.load(resp)["members"]
        except OSError:
            continue
    return []


def leader() -> str | None:
    return next((m["name"] for m in patroni_members() if m["role"] == "leader" and m["state"] == "running"), None)


# ---------------------------------------------------------------- a citizen with a browser-like client


class Citizen:
    """One keep-alive connection with a cookie jar, through the load balancer."""

    def __init__(self) -> None:
        self.conn = http.client.HTTPConnection(*WEB, timeout=60)
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict | None = None) -> tuple[int, str, dict]:
        headers = {"Host": "localhost"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = urllib.parse.urlencode(form) if form is not None else None
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            self.conn.request(method, path, body=body, headers=headers)
            resp = self.conn.getresponse()
            text = resp.read().decode("utf-8", "replace")
        except (OSError, http.client.HTTPException) as exc:
            self.conn.close()
            self.conn = http.client.HTTPConnection(*WEB, timeout=60)
            return 0, f"{type(exc).__name__}: {exc}", {}
        for value in resp.headers.get_all("Set-Cookie") or []:
            c = SimpleCookie()
            c.load(value)
            for k, morsel in c.items():
                self.cookies[k] = morsel.value
        return resp.status, text, {k.lower(): v for k, v in resp.headers.items()}  # HAProxy lowercases names

    def new_form(self, n: int) -> dict | None:
        status, text, _ = self.request("GET", f"/{SLUG}/lapor")
        csrf, key = CSRF.search(text), KEY.search(text)
        if status != 200 or not csrf or not key:
            return None
        return {"csrf_token": csrf.group(1), "submission_key": key.group(1),
                "title": f"Jalan berlubang nomor {n}",
                "description": "Lubang besar di tengah jalan, membahayakan pengendara motor di malam hari.",
                "complaint_class": "pengaduan", "category_id": "", "location_text": "Jl. A. Yani km 4",
                "privacy": "public", "reporter_name": "Warga Uji",
                "reporter_email": f"warga-{uuid.uuid4().hex[:12]}@contoh.id",
                "reporter_phone": "", "consent": "y", "hp_note": ""}


@dataclass
class Burst:
    """Submissions from ``clients`` threads until stopped; failed posts are re-sent with the same form."""

    clients: int
    acked: dict[str, str] = field(default_factory=dict)  # submission key → tracking code
    failures: list[tuple[float, int, bool]] = field(default_factory=list)  # (time, status, translated 503)
    first_ok_after: dict[float, float] = field(default_factory=dict)
    ok_times: list[float] = field(default_factory=list)
    resent_keys: set[str] = field(default_factory=set)
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    gave_up: int = 0

    def run(self) -> list[threading.Thread]:
        threads = [threading.Thread(target=self._client, args=(i,), daemon=True) for i in range(self.clients)]
        for t in threads:
            t.start()
        return threads

    def _client(self, i: int) -> None:
        citizen, n = Citizen(), 0
        while not self.stop.is_set():
            form = citizen.new_form(i * 100000 + n)
            n += 1
            if form is None:
                time.sleep(0.2)  # the form page itself needs the database: wait, then ask again
                continue
            started = time.time()
            deadline = started + 120
            while True:
                status, text, headers = citizen.request("POST", f"/{SLUG}/lapor", form)
                match = RECEIVED.search(headers.get("location", "")) if status == 303 else None
                if match:
                    with self.lock:
                        self.acked[form["submission_key"]] = match.group(1)
                        self.ok_times.append(time.time())
                    break
                with self.lock:
                    self.failures.append((time.time(), status, status == 503 and UNAVAILABLE_ID in text))
                    self.resent_keys.add(form["submission_key"])
                if time.time() > deadline:
                    with self.lock:
                        self.gave_up += 1
                    break
                time.sleep(0.5)  # as a citizen pressing "try again": the SAME form, the same key


def run_burst(clients: int, before: float, fault, after: float) -> tuple[Burst, float]:
    burst = Burst(clients)
    threads = burst.run()
    time.sleep(before)
    fault_at = time.time()
    fault()
    time.sleep(after)
    burst.stop.set()
    for t in threads:
        t.join(180)
    return burst, fault_at


# ---------------------------------------------------------------- checks against the database and the mail sink


def landed(keys: list[str]) -> dict[str, list[str]]:
    """Submission key → tracking codes stored for it (on the current leader, after the burst)."""
    out: dict[str, list[str]] = {}
    with psycopg.connect(admin_url(), connect_timeout=5) as conn:
        rows = conn.execute("SELECT c.submission_key, c.code FROM complaint c JOIN tenant t ON t.id = c.tenant_id "
                            "WHERE t.slug = %s AND c.submission_key = ANY(%s)", (SLUG, keys)).fetchall()
    for key, code in rows:
        out.setdefault(key, []).append(code)
    return out


def expected_message_ids(codes: list[str], timeout: float = 240) -> set[str]:
    """Message-IDs of the emails about ``codes`` (at least the reporter's confirmation of each), once recorded."""
    domain = cluster_env()["MAIL_DEFAULT_SENDER"].rpartition("@")[2]
    t0, rows = time.time(), []
    while time.time() - t0 < timeout:
        with psycopg.connect(admin_url(), connect_timeout=5) as conn:
            rows = conn.execute(
                "SELECT n.tenant_id, n.id FROM complaint c JOIN complaint_event e "
                "ON e.tenant_id = c.tenant_id AND e.complaint_id = c.id JOIN notification n "
                "ON n.tenant_id = e.tenant_id AND n.event_key = 'event:' || e.id "
                "WHERE n.channel = 'email' AND c.code = ANY(%s)", (codes,)).fetchall()
        if len(rows) >= len(codes):
            break
        time.sleep(1)
    return {f"<notification-{t}-{i}@{domain}>" for t, i in rows}


def delivered(expected: set[str], timeout: float) -> tuple[set[str], int, float]:
    """(missing, duplicates, seconds waited) once every expected Message-ID reached the sink or time ran out."""
    t0 = time.time()
    while True:
        seen = (DIR / "mail" / "sink.txt").read_text().split() if (DIR / "mail" / "sink.txt").exists() else []
        mine = [s for s in seen if s in expected]
        missing = expected - set(mine)
        if not missing or time.time() - t0 > timeout:
            return missing, len(mine) - len(set(mine)), time.time() - t0
        time.sleep(1)


def verify(burst: Burst, label: str) -> dict:
    keys = list(burst.acked) + [k for k in burst.resent_keys if k not in burst.acked]
    stored = landed(keys)
    lost = [k for k, code in burst.acked.items() if stored.get(k) != [code]]
    duplicates = sum(len(v) - 1 for v in stored.values() if len(v) > 1)
    resent_landed_once = sum(1 for k in burst.resent_keys if len(stored.get(k, [])) == 1)
    expected = expected_message_ids(list(burst.acked.values()))
    missing_mail, dup_mail, waited = delivered(expected, timeout=240)
    missing_mail |= {f"no email recorded for {n}" for n in range(len(burst.acked) - len(expected))}
    return {"scenario": label, "acknowledged": len(burst.acked), "lost": len(lost), "duplicates": duplicates,
            "failed_posts": len(burst.failures), "failed_translated_503": sum(1 for f in burst.failures if f[2]),
            "failed_statuses": dict(Counter(str(f[1]) for f in burst.failures)),  # 0: no answer at all
            "resent_forms": len(burst.resent_keys), "resent_landed_once": resent_landed_once,
            "gave_up": burst.gave_up, "emails_expected": len(expected), "emails_missing": len(missing_mail),
            "emails_duplicated": dup_mail, "emails_wait_s": round(waited, 1)}


# ---------------------------------------------------------------- the faults


def pids_of_group(name: str) -> int:
    return int((DIR / "run" / f"{name}.pid").read_text())


def kill_node(name: str) -> None:
    """The node is lost: SIGKILL its Patroni and its postmaster at once (no clean shutdown, no demotion)."""
    postmaster = int((DIR / name / "data" / "postmaster.pid").read_text().split()[0])
    os.killpg(pids_of_group(name), signal.SIGKILL)
    os.kill(postmaster, signal.SIGKILL)


def kill_postmaster(name: str) -> None:
    """Only the leader's postgres dies; its Patroni lives on and still holds the leader key."""
    os.kill(int((DIR / name / "data" / "postmaster.pid").read_text().split()[0]), signal.SIGKILL)


def kill_web(name: str) -> None:
    os.killpg(pids_of_group(name), signal.SIGKILL)


def start_node(name: str) -> None:
    subprocess.run([str(CLUSTER), "start-node", name], check=True)  # noqa: S603


def wait(predicate, timeout: float, what: str):
    t0 = time.time()
    while time.time() - t0 < timeout:
        value = predicate()
        if value:
            return value
        time.sleep(0.5)
    raise SystemExit(f"timed out after {timeout}s waiting for {what}")


def healthy() -> bool:
    members = patroni_members()
    return (any(m["role"] == "leader" and m["state"] == "running" for m in members)
            and any(m["role"] == "sync_standby" and m["state"] in ("streaming", "running") for m in members))


def web_up(name: str) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{WEB_PORTS[name]}/healthz", timeout=2):  # noqa: S310
            return True
    except OSError:
        return False


def recovery(burst: Burst, fault_at: float) -> float | None:
    """Seconds from the fault until submissions succeed again (the first acknowledgement after the last
    failure; with no failure, the first acknowledgement after the fault)."""
    fails_after = [f[0] for f in burst.failures if f[0] >= fault_at]
    last_fail = max(fails_after) if fails_after else fault_at
    first_ok = min((t for t in burst.ok_times if t >= last_fail), default=None)
    return round(first_ok - fault_at, 1) if first_ok else None


def one_run(n: int, clients: int) -> dict:
    wait(healthy, 120, "a leader and a synchronous replica")
    first = leader()
    print(f"run {n}: a0. leader {first}: only its postgres is killed after 5 s (Patroni restarts it)", flush=True)
    burst0, killed0 = run_burst(clients, 5, lambda: kill_postmaster(first), 25)
    a0 = verify(burst0, "a0. leader's postgres killed")
    a0["new_leader"] = f"{first}→{leader()}"
    a0["recovered_s"] = recovery(burst0, killed0)
    wait(healthy, 120, "a leader and a synchronous replica again")

    old = leader()
    print(f"run {n}: leader {old}; burst with {clients} clients, the leader's node is killed after 8 s", flush=True)
    burst, killed_at = run_burst(clients, 8, lambda: kill_node(old), 35)
    new = leader()
    a = verify(burst, "a. leader's node killed")
    a["new_leader"] = f"{old}→{new}"
    a["recovered_s"] = recovery(burst, killed_at)

    print(f"run {n}: c. {old} started again", flush=True)
    t0 = time.time()
    start_node(old)
    wait(lambda: any(m["name"] == old and m["role"] == "sync_standby" and m["state"] in ("streaming", "running")
                     for m in patroni_members()), 180, f"{old} to rejoin as synchronous replica")
    c = {"scenario": "c. old leader rejoins", "rejoined_as": "sync_standby", "rejoin_s": round(time.time() - t0, 1),
         "leader_after": leader()}

    print(f"run {n}: b. burst, web2 killed after 5 s", flush=True)
    burst_b, _ = run_burst(clients, 5, lambda: kill_web("web2"), 15)
    b = verify(burst_b, "b. web node killed")
    start_node("web2")
    wait(lambda: web_up("web2"), 60, "web2 to come back")
    return {"a0": a0, "a": a, "b": b, "c": c}


def ok_database_fault(a: dict) -> bool:
    return (a["lost"] == 0 and a["duplicates"] == 0 and a["gave_up"] == 0
            and a["failed_posts"] == a["failed_translated_503"] and a["resent_landed_once"] == a["resent_forms"]
            and a["emails_missing"] == 0 and a["emails_duplicated"] == 0 and a["recovered_s"] is not None)


def ok(run: dict) -> bool:
    b = run["b"]
    return (ok_database_fault(run["a0"]) and ok_database_fault(run["a"])
            and b["lost"] == 0 and b["failed_posts"] == 0 and b["duplicates"] == 0
            and b["emails_missing"] == 0 and b["emails_duplicated"] == 0)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--clients", type=int, default=6)
    args = parser.parse_args()
    if not (DIR / "app.env").exists():
        raise SystemExit("the cluster is not up: run `make cluster` first")
    results = []
    for n in range(1, args.runs + 1):
        run = one_run(n, args.clients)
        run["ok"] = ok(run)
        results.append(run)
        print(json.dumps(run, indent=1), flush=True)
    print("\nrun | scenario | leader | acked | lost | dup | failed posts (translated 503) | re-sent landed once | "
          "recovered s | emails expected/missing/dup")
    for i, r in enumerate(results, 1):
        for key in ("a0", "a", "b"):
            x = r[key]
            print(f"{i} | {x['scenario']} | {x.get('new_leader', '')} | {x['acknowledged']} | {x['lost']} | "
                  f"{x['duplicates']} | {x['failed_posts']} ({x['failed_translated_503']}) | "
                  f"{x['resent_landed_once']}/{x['resent_forms']} | {x.get('recovered_s', '')} | "
                  f"{x['emails_expected']}/{x['emails_missing']}/{x['emails_duplicated']}")
        c = r["c"]
        print(f"{i} | {c['scenario']} | leader {c['leader_after']} | rejoined as {c['rejoined_as']} "
              f"in {c['rejoin_s']} s | ok: {r['ok']}")
    out = DIR.parent / f"lapor-cluster-results-{time.strftime('%Y%m%dT%H%M%S')}.json"
    out.write_text(json.dumps(results, indent=1))
    print(f"figures written to {out}")
    return 0 if all(r["ok"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
