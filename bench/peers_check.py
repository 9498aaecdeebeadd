#!/usr/bin/env python3
"""Smoke test of bench/peers.py: one short run with 16 writers; every system must report
events, and the peers' chains were verified by peers.py itself (it exits 1 otherwise).
A chain broken on purpose must be caught by its verifier. Usage: peers_check.py PEERS
JOURNAL_BENCH"""
import importlib.util
import json
import subprocess
import sys

peers, journal_bench = sys.argv[1], sys.argv[2]
failures = []

spec = importlib.util.spec_from_file_location("peers", peers)
mod = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mod)
rows, prev = [], mod.ZERO
for seq in range(1, 4):
    h = mod.chain_hash(prev, seq, mod.PAYLOAD)
    rows.append((seq, mod.PAYLOAD, prev, h))
    prev = h
if mod.verify_chain(rows) is not None:
    failures.append("a good chain was refused")
bad = list(rows)
bad[1] = (2, mod.PAYLOAD[:-1] + b"x", rows[1][2], rows[1][3])
if mod.verify_chain(bad) != "the chain breaks at seq 2":
    failures.append("a changed payload was not caught")
if mod.verify_chain(rows[:1] + rows[2:]) != "seq 3 where 2 was expected":
    failures.append("a gap was not caught")

res = subprocess.run([sys.executable, peers, "--quick", "--json", "--writers", "16",
                      "--seconds", "1", "--journal-bench", journal_bench],
                     capture_output=True, text=True, timeout=280)
if res.returncode != 0:
    failures.append(f"peers.py exited {res.returncode}: {res.stderr[-2000:]}")
else:
    doc = json.loads(res.stdout)
    for system in ("bulwark", "postgresql", "sqlite"):
        got = doc.get(system, [])
        if len(got) != 1 or got[0]["writers"] != 16 or got[0]["events"] <= 0:
            failures.append(f"{system}: no events with 16 writers: {got}")
bad_args = subprocess.run([sys.executable, peers, "--writers", "0"], capture_output=True,
                          text=True)
if bad_args.returncode != 2 or "--writers" not in bad_args.stderr:
    failures.append("--writers 0 was not refused")
for f in failures:
    print("FAIL:", f)
sys.exit(1 if failures else 0)
