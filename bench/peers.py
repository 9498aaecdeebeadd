#!/usr/bin/env python3
"""The journal beside what a team would build instead, measured in one run.

Three hash-chained, durable event logs, each acknowledging an event only once it is on
disk, with concurrent writers of 256-byte events:

- Bulwark's journal: `journal_bench --append --json` (the durable append rows).
- PostgreSQL: a table whose BEFORE INSERT trigger chains each row to the last one
  (sha256(prev || seq || payload), under a transaction-level advisory lock so that
  concurrent writers chain in order), fed by pgbench; fsync and synchronous_commit on.
- SQLite with synchronous=FULL (WAL mode), one connection per writer thread, the hash
  computed by the writer inside a BEGIN IMMEDIATE transaction.

Each peer's chain is read back and verified after its run, so a figure never counts a
broken chain. The servers run in a temporary directory on loopback and are stopped at
the end. Usage: bench/peers.py [--quick] [--json] [--writers 16,256] [--seconds N]
[--journal-bench PATH]. Run it through `scripts/bench.sh --peers`.
"""

import argparse
import glob
import hashlib
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

PAYLOAD = bytes([0x5A]) * 256
ZERO = bytes(32)


def chain_hash(prev, seq, payload):
    return hashlib.sha256(prev + seq.to_bytes(8, "big") + payload).digest()


def verify_chain(rows):
    """rows: (seq, payload, prev, hash) by seq. Returns an error or None."""
    prev = ZERO
    for i, (seq, payload, p, h) in enumerate(rows, start=1):
        if seq != i:
            return f"seq {seq} where {i} was expected"
        if bytes(p) != prev or bytes(h) != chain_hash(prev, seq, bytes(payload)):
            return f"the chain breaks at seq {seq}"
        prev = bytes(h)
    return None


def progress(text):
    print(text, file=sys.stderr, flush=True)


# -- PostgreSQL ------------------------------------------------------------------------

PG_SCHEMA = r"""
CREATE TABLE events (seq bigint PRIMARY KEY, payload bytea NOT NULL,
                     prev bytea NOT NULL, hash bytea NOT NULL);
CREATE FUNCTION chain() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE last_seq bigint; last_hash bytea;
BEGIN
  PERFORM pg_advisory_xact_lock(7401);
  SELECT seq, hash INTO last_seq, last_hash FROM events ORDER BY seq DESC LIMIT 1;
  IF NOT FOUND THEN
    last_seq := 0; last_hash := decode(repeat('00', 32), 'hex');
  END IF;
  NEW.seq := last_seq + 1;
  NEW.prev := last_hash;
  NEW.hash := sha256(last_hash || int8send(NEW.seq) || NEW.payload);
  RETURN NEW;
END $$;
CREATE TRIGGER chain BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION chain();
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Postgres:
    def __init__(self, root):
        dirs = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
        if not dirs:
            raise RuntimeError("PostgreSQL is not installed (scripts/install-deps.sh installs it)")
        self.bin = dirs[-1]
        self.root = root
        self.data = os.path.join(root, "pg")
        self.port = free_port()
        # The server refuses to run as root: run it as the package's postgres user.
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_user:
            shutil.chown(root, "postgres")
        self.proc = None

    def run(self, *argv, **kw):
        return subprocess.run(self.as_user + list(argv), check=True, capture_output=True,
                              text=True, **kw)

    def start(self, max_connections):
        self.run(os.path.join(self.bin, "initdb"), "-D", self.data, "-A", "trust",
                 "-U", "bench", "--no-sync")
        self.proc = subprocess.Popen(
            self.as_user + [os.path.join(self.bin, "postgres"), "-D", self.data,
                            "-p", str(self.port), "-k", self.root,
                            "-c", "listen_addresses=127.0.0.1",
                            "-c", f"max_connections={max_connections + 10}",
                            "-c", "fsync=on", "-c", "synchronous_commit=on",
                            "-c", "shared_buffers=256MB"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(200):
            if subprocess.run(self.as_user + [os.path.join(self.bin, "pg_isready"), "-h",
                                              "127.0.0.1", "-p", str(self.port)],
                              capture_output=True).returncode == 0:
                return
            time.sleep(0.05)
        raise RuntimeError("PostgreSQL did not start")

    def psql(self, sql, db="postgres"):
        return self.run(os.path.join(self.bin, "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1",
                        "-h", "127.0.0.1", "-p", str(self.port), "-U", "bench", "-d", db,
                        "-At", "-c", sql).stdout

    def stop(self):
        if self.proc:
            self.proc.terminate()
            self.proc.wait(timeout=30)


def run_postgres(writers, seconds, root):
    pg = Postgres(root)
    pg.start(max(writers))
    try:
        out = []
        for n in writers:
            db = f"w{n}"
            pg.psql(f"CREATE DATABASE {db}")
            pg.psql(PG_SCHEMA, db)
            script = os.path.join(root, "insert.sql")
            with open(script, "w") as f:
                f.write(f"INSERT INTO events (payload) VALUES (decode(repeat('5a', 256), 'hex'));\n")
            os.chmod(script, 0o644)
            progress(f"postgresql: {n} writers, {seconds} s")
            res = pg.run(os.path.join(pg.bin, "pgbench"), "-n", "-h", "127.0.0.1", "-p",
                         str(pg.port), "-U", "bench", "-c", str(n), "-j", "2", "-T",
                         str(seconds), "-M", "prepared", "-f", script, db)
            latency = next((float(l.split("=")[1].split()[0]) for l in res.stdout.splitlines()
                            if l.startswith("latency average")), None)
            rows = pg.psql("SELECT seq, encode(payload, 'hex'), encode(prev, 'hex'), "
                           "encode(hash, 'hex') FROM events ORDER BY seq", db).split()
            parsed = [(int(s), bytes.fromhex(p), bytes.fromhex(v), bytes.fromhex(h))
                      for s, p, v, h in (r.split("|") for r in rows)]
            err = verify_chain(parsed)
            if err:
                raise RuntimeError(f"postgresql, {n} writers: {err}")
            out.append({"writers": n, "events": len(parsed),
                        "events_per_s": len(parsed) / seconds, "latency_avg_ms": latency})
        return out
    finally:
        pg.stop()


# -- SQLite ----------------------------------------------------------------------------

def run_sqlite(writers, seconds, root):
    out = []
    for n in writers:
        path = os.path.join(root, f"sqlite-{n}.db")
        con = sqlite3.connect(path, isolation_level=None)
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("CREATE TABLE events (seq INTEGER PRIMARY KEY, payload BLOB NOT NULL, "
                    "prev BLOB NOT NULL, hash BLOB NOT NULL)")
        con.close()
        progress(f"sqlite: {n} writers, {seconds} s")
        counts = [0] * n
        latencies = []
        lock = threading.Lock()
        stop_at = time.monotonic() + seconds
        errors = []

        def writer(i):
            c = sqlite3.connect(path, isolation_level=None, timeout=120,
                                check_same_thread=False)
            c.execute("PRAGMA synchronous=FULL")
            mine = []
            try:
                while time.monotonic() < stop_at:
                    t0 = time.monotonic()
                    c.execute("BEGIN IMMEDIATE")
                    row = c.execute("SELECT seq, hash FROM events ORDER BY seq DESC "
                                    "LIMIT 1").fetchone()
                    seq, prev = (row[0] + 1, bytes(row[1])) if row else (1, ZERO)
                    c.execute("INSERT INTO events VALUES (?, ?, ?, ?)",
                              (seq, PAYLOAD, prev, chain_hash(prev, seq, PAYLOAD)))
                    c.execute("COMMIT")
                    mine.append(time.monotonic() - t0)
                    counts[i] += 1
            except sqlite3.Error as e:
                errors.append(str(e))
            finally:
                c.close()
            with lock:
                latencies.extend(mine)

        threads = [threading.Thread(target=writer, args=(i,)) for i in range(n)]
        start = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - start
        if errors:
            raise RuntimeError(f"sqlite, {n} writers: {errors[0]}")
        con = sqlite3.connect(path)
        err = verify_chain(con.execute("SELECT seq, payload, prev, hash FROM events "
                                       "ORDER BY seq").fetchall())
        con.close()
        if err:
            raise RuntimeError(f"sqlite, {n} writers: {err}")
        latencies.sort()
        out.append({"writers": n, "events": sum(counts), "events_per_s": sum(counts) / elapsed,
                    "latency_avg_ms": 1000 * sum(latencies) / max(1, len(latencies))})
    return out


# -- Bulwark's journal -----------------------------------------------------------------

def run_journal(binary, quick, writers):
    progress("bulwark journal: journal_bench --append")
    argv = [binary, "--append", "--json"] + (["--quick"] if quick else [])
    res = subprocess.run(argv, check=True, capture_output=True, text=True)
    doc = json.loads(res.stdout)
    rows = [a for a in doc["append"] if a["appenders"] in writers]
    return [{"writers": a["appenders"], "events": a["events"],
             "events_per_s": a["events_per_s"], "latency_avg_ms": None,
             "ack_p50_ms": a["ack_p50_us"] / 1000} for a in rows], doc.get("machine", {})


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="2-second runs (a smoke run)")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--writers", default="16,256",
                    help="concurrent writers, comma-separated (default 16,256; the journal "
                         "bench measures 1, 16 and 256)")
    ap.add_argument("--seconds", type=int, default=0, help="seconds per peer run (default 10)")
    ap.add_argument("--journal-bench", default="build/bench/journal_bench",
                    help="the journal_bench program (default build/bench/journal_bench)")
    args = ap.parse_args()
    try:
        writers = [int(w) for w in args.writers.split(",")]
        if not writers or min(writers) < 1 or max(writers) > 1000:
            raise ValueError
    except ValueError:
        ap.error("--writers takes numbers from 1 to 1000, comma-separated")
    seconds = args.seconds or (2 if args.quick else 10)
    if not os.access(args.journal_bench, os.X_OK):
        ap.error(f"{args.journal_bench}: not built (cmake --build build --target journal_bench)")
    root = tempfile.mkdtemp(prefix="bulwark-peers-")
    os.chmod(root, 0o755)
    try:
        journal, machine = run_journal(args.journal_bench, args.quick, writers)
        result = {"machine": machine, "seconds": seconds, "payload_bytes": len(PAYLOAD),
                  "bulwark": journal,
                  "postgresql": run_postgres(writers, seconds, root),
                  "sqlite": run_sqlite(writers, seconds, root)}
    except (RuntimeError, subprocess.CalledProcessError, OSError) as e:
        detail = getattr(e, "stderr", "") or ""
        print(f"peers: {e} {detail.strip()}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(root, ignore_errors=True)
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"durable hash-chained appends, {len(PAYLOAD)}-byte events, "
          f"{seconds} s per peer run")
    print(f"{'system':<44} {'writers':>7} {'events/s':>10} {'events':>8}")
    names = {"bulwark": "Bulwark journal (LMDB, group commit)",
             "postgresql": "PostgreSQL, trigger-chained table (pgbench)",
             "sqlite": "SQLite, synchronous=FULL, WAL"}
    for key, label in names.items():
        for r in result[key]:
            print(f"{label:<44} {r['writers']:>7} {r['events_per_s']:>10.0f} {r['events']:>8}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
