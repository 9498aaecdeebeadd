#!/usr/bin/python3
"""Independent verifier of a Bulwark journal, written from docs/journal-format.md only
(journal format version 1: event types 1-30, 35-54, snapshot version 10). Needs Python 3 and
Debian's python3-lmdb.

Usage: verify_journal.py DIR [--json]

Checks the meta records (magic, format), walks every key of `events` checking that
the keys run 1, 2, ... without gaps or stray keys, the 30-byte header, the hash chain
and then the payload (decoded by the documented field lists), checks that the stored head names
exactly the newest record, and checks every snapshot (an unusable one is reported on
stderr and in the JSON, but does not fail the journal, as replay skips it too).

Prints one line on stdout and exits:
  0  OK <head seq> <head chain hex>
  3  BAD <seq> <reason>        the first bad seq (0: damage before any record, e.g. a
                               truncated data.mdb)
  2  DIR is missing, unreadable or not a Bulwark journal (the reason goes to stderr)
  1  usage error
With --json the line is a JSON object instead: {"ok", "status", "checked", "head",
"chain"} or {"ok", "status", "checked", "first_bad", "reason"} (plus "types", the
records per event type, and "snapshots"), or {"ok": false, "status": "ERROR", "error"}.

The journal is opened read-only in one read transaction, so it is safe beside a running
node; with no lock.mdb (nobody writes) it is opened without locking so nothing is
created or modified.
"""
import hashlib
import struct as struct_module
import json
import os
import sys

import lmdb

EXIT_OK, EXIT_USAGE, EXIT_UNREADABLE, EXIT_BAD = 0, 1, 2, 3

FORMAT_VERSION = 1
MAGIC = b"bulwark-journal"
CHAIN_SIZE = 32
HEADER_SIZE = 30
SNAPSHOT_HEADER = 77
SNAPSHOT_VERSION = 10  # 2: fleet_state gained candidates, incidents, reverted; 3: dead_letters;
#                      4: decided (by key digest) replaced idempotency; proposals: running only
#                      5: incident_state gained acknowledged, owner, resolution, notes
#                      6: candidate_state gained detected_after
#                      7: level-0 reads recorded in decided (status 4), not in proposals
#                      8: budget (the fleet-wide blast budget's charges)
#                      9: audit (the audit queue of level-4 changes)
#                      10: policy_version, policy, quarantined
#                      9: audit (the audit queue of level-4 changes)


class NotAJournal(Exception):
    """The directory is missing, unreadable or not a Bulwark journal (exit 2)."""


class Invalid(Exception):
    """A canonical encoding that does not decode."""


# -- canonical encoding ("Canonical encoding") ---------------------------------------

class Reader:
    def __init__(self, data):
        self.data = data
        self.pos = 0

    def take(self, n):
        if n > len(self.data) - self.pos:
            raise Invalid("truncated")
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def uint(self, n):
        return int.from_bytes(self.take(n), "big")


# Type expressions: a name for scalars, tuples for the rest.
BOOL, U8, U32, U64, I64, STRING, DIGEST = "bool", "u8", "u32", "u64", "i64", "string", "digest"
F64 = "f64"  # IEEE 754 binary64 bits as a BE u64
TIME = I64  # nanoseconds since the UNIX epoch
TIMESPAN = I64  # a duration in nanoseconds


def enum(name, lo, hi, checked=True):
    return ("enum", name, lo, hi, checked)


def optional(t):
    return ("optional", t)


def list_of(t):
    return ("list", t)


def sorted_list_of(t, field):
    """A list of structs whose `field` strictly ascends (as map keys do)."""
    return ("sorted_list", t, field)


def map_of(k, v):
    return ("map", k, v)


def struct(name, *fields):
    return ("struct", name, fields)


def decode(r, t, where):
    if t == BOOL:
        b = r.uint(1)
        if b > 1:
            raise Invalid(f"{where}: bad boolean {b}")
        return b == 1
    if t == U8:
        return r.uint(1)
    if t == U32:
        return r.uint(4)
    if t == U64:
        return r.uint(8)
    if t == I64:
        return int.from_bytes(r.take(8), "big", signed=True)
    if t == F64:
        return struct_module.unpack(">d", r.take(8))[0]
    if t == STRING:
        return r.take(r.uint(4))  # bytes: never validated as UTF-8; compared bytewise
    if t == DIGEST:
        return r.take(32)
    kind = t[0]
    if kind == "enum":
        _, name, lo, hi, checked = t
        v = r.uint(1)
        if checked and not lo <= v <= hi:
            raise Invalid(f"{where}: {name} {v} out of range {lo}-{hi}")
        return v
    if kind == "optional":
        present = decode(r, BOOL, where + " (optional flag)")
        return decode(r, t[1], where) if present else None
    if kind == "list":
        return [decode(r, t[1], f"{where}[{i}]") for i in range(r.uint(4))]
    if kind == "sorted_list":
        out = [decode(r, t[1], f"{where}[{i}]") for i in range(r.uint(4))]
        for i in range(1, len(out)):
            if not out[i - 1][t[2]] < out[i][t[2]]:
                raise Invalid(f"{where}: {t[2]}s not in strictly ascending order")
        return out
    if kind == "map":
        out, last = {}, None
        for i in range(r.uint(4)):
            key = decode(r, t[1], f"{where} key {i}")
            if i > 0 and not last < key:
                raise Invalid(f"{where}: map keys not in strictly ascending order")
            out[key] = decode(r, t[2], f"{where}[{key!r}]")
            last = key
        return out
    if kind == "struct":
        return {field: decode(r, ft, f"{t[1]}.{field}") for field, ft in t[2]}
    raise AssertionError(t)


def decode_exactly(data, t, where):
    r = Reader(data)
    value = decode(r, t, where)
    if r.pos != len(data):
        raise Invalid(f"{len(data) - r.pos} trailing bytes after the encoding")
    return value


# -- enumerations and payloads ("Enumerations", "Event types and payloads") ---------

LEVEL = enum("authority level", 0, 4)
GATE = enum("gate", 1, 13)
BREAKER = enum("breaker state", 0, 4)
DEGRADATION = enum("degradation", 0, 2)
# Not range-checked by the C++ decoder, but no writer produces a value above 15.
CODE = enum("error code", 0, 15)
VERDICT = enum("policy verdict", 1, 3)
SEVERITY = enum("severity", 0, 3)

MUTATION = struct("mutation", ("resource", STRING), ("key", STRING), ("value", STRING))
GATE_RESULT = struct("gate_result", ("name", GATE), ("passed", BOOL), ("note", STRING))
APPROVAL = struct("approval_recorded", ("proposal", DIGEST), ("approver", STRING),
                  ("note", STRING))
HALT = struct("halt_changed", ("by", STRING), ("reason", STRING))
CULPRIT = struct("culprit", ("seq", U64), ("proposal", DIGEST), ("resource", STRING),
                 ("key", STRING), ("score", U32), ("before_onset", TIMESPAN))
INCIDENT_OUTCOME = struct("incident_outcome", ("incident", DIGEST), ("mttr", TIMESPAN),
                          ("error_ppm", U32), ("detail", STRING))
INCIDENT_REMARK = struct("incident_remark", ("incident", DIGEST), ("by", STRING),
                         ("text", STRING))

DEAD_LETTERED = struct("dead_lettered", ("proposal", DIGEST), ("step", U32),
                       ("principal", STRING), ("level", LEVEL), ("service", STRING),
                       ("change", MUTATION), ("code", CODE), ("message", STRING),
                       ("failed_at", TIME))

POLICY_ENTRY = struct("policy_entry", ("key", STRING), ("value", STRING))

EVENT_TYPES = {
    1: ("resource_registered",
        struct("resource_registered", ("resource", STRING), ("service", STRING),
               ("region", STRING), ("attributes", map_of(STRING, STRING)))),
    2: ("resource_retired",
        struct("resource_retired", ("resource", STRING), ("reason", STRING))),
    3: ("proposal_decided",
        struct("proposal_decided", ("proposal", DIGEST), ("idempotency_key", STRING),
               ("principal", STRING), ("level", LEVEL), ("service", STRING),
               ("region", STRING), ("allowed", BOOL), ("code", CODE), ("reason", STRING),
               ("allowed_count", U32), ("gates", list_of(GATE_RESULT)),
               ("mutations", list_of(MUTATION)), ("justification", STRING))),
    4: ("action_started",
        struct("action_started", ("proposal", DIGEST), ("step", U32), ("change", MUTATION))),
    5: ("action_applied",
        struct("action_applied", ("proposal", DIGEST), ("step", U32), ("resource", STRING),
               ("key", STRING), ("old_value", optional(STRING)), ("new_value", STRING))),
    6: ("action_failed",
        struct("action_failed", ("proposal", DIGEST), ("step", U32), ("change", MUTATION),
               ("code", CODE), ("message", STRING))),
    7: ("approval_granted", APPROVAL),
    8: ("rollback_applied",
        struct("rollback_applied", ("rollback", DIGEST), ("reverts", U64),
               ("resource", STRING), ("key", STRING), ("old_value", optional(STRING)),
               ("new_value", optional(STRING)))),
    9: ("breaker_transition",
        struct("breaker_transition", ("service", STRING), ("from", BREAKER), ("to", BREAKER),
               ("cause", STRING), ("failures", U32), ("calls", U32))),
    10: ("grant_changed",
         struct("grant_changed", ("principal", STRING), ("level", LEVEL),
                ("until", optional(TIME)), ("by", STRING), ("reason", STRING))),
    11: ("halt_engaged", HALT),
    12: ("halt_released", HALT),
    13: ("console_access",
         struct("console_access", ("principal", STRING), ("command", STRING),
                ("remote", STRING), ("allowed", BOOL), ("detail", STRING))),
    14: ("approval_denied", APPROVAL),
    15: ("approval_expired", APPROVAL),
    16: ("interrupted",
         struct("interrupted", ("proposal", DIGEST), ("by", STRING), ("steps_done", U32))),
    17: ("proposal_finished",
         struct("proposal_finished", ("proposal", DIGEST), ("succeeded", BOOL),
                ("code", CODE), ("applied", U32), ("compensated", U32),
                ("message", STRING))),
    18: ("actor_restarted",
         struct("actor_restarted", ("supervisor", STRING), ("child", STRING),
                ("reason", STRING), ("restarts_in_window", U32), ("escalated", BOOL))),
    19: ("candidate_raised",
         struct("candidate_raised", ("candidate", DIGEST), ("service", STRING),
                ("region", STRING), ("onset", TIME), ("confirmed", TIME),
                ("error_ppm", U32), ("baseline_ppm", U32), ("threshold_ppm", U32),
                ("culprits", list_of(CULPRIT)), ("policy", STRING), ("raised_by", STRING))),
    20: ("candidate_decided",
         struct("candidate_decided", ("candidate", DIGEST), ("decision", DIGEST),
                ("policy", STRING), ("verdict", VERDICT), ("level", SEVERITY),
                ("by", STRING), ("manual", BOOL), ("justification", STRING))),
    21: ("incident_opened",
         struct("incident_opened", ("incident", DIGEST), ("candidate", DIGEST),
                ("decision", DIGEST), ("service", STRING), ("region", STRING),
                ("level", SEVERITY), ("onset", TIME), ("respond_by", TIME),
                ("culprits", list_of(U64)), ("rollback_level", LEVEL), ("by", STRING),
                ("justification", STRING))),
    22: ("rollback_requested",
         struct("rollback_requested", ("rollback", DIGEST), ("incident", DIGEST),
                ("by", STRING), ("level", LEVEL), ("reverts", list_of(U64)),
                ("justification", STRING))),
    23: ("rollback_finished",
         struct("rollback_finished", ("rollback", DIGEST), ("incident", DIGEST),
                ("succeeded", BOOL), ("code", CODE), ("reverted", U32),
                ("message", STRING))),
    24: ("incident_closed", INCIDENT_OUTCOME),
    25: ("incident_escalated", INCIDENT_OUTCOME),
    26: ("orchestration_failed",
         struct("orchestration_failed", ("candidate", DIGEST), ("service", STRING),
                ("region", STRING), ("attempt", U32), ("code", CODE), ("reason", STRING),
                ("retry_in", TIMESPAN))),
    27: ("early_warning",
         struct("early_warning", ("mode", STRING), ("indicator", STRING),
                ("level", DEGRADATION), ("value", F64), ("threshold", F64),
                ("action", STRING))),
    28: ("degradation_changed",
         struct("degradation_changed", ("from", DEGRADATION), ("to", DEGRADATION),
                ("cause", STRING))),
    29: ("dead_lettered", DEAD_LETTERED),
    30: ("dead_letter_resolved",
         struct("dead_letter_resolved", ("letter", U64), ("by", STRING), ("requeued", BOOL),
                ("idempotency_key", STRING), ("reason", STRING))),
    # -- cluster: 35-40 reserved, 35-37 defined --
    35: ("peer_changed",
         struct("peer_changed", ("node_id", STRING), ("up", BOOL), ("reason", STRING),
                ("peer_head", U64))),
    36: ("integrity_alert",
         struct("integrity_alert", ("local_node", STRING), ("peer_node", STRING),
                ("seq", U64), ("local_chain", DIGEST), ("peer_chain", DIGEST),
                ("reason", STRING))),
    37: ("leadership_changed",
         struct("leadership_changed", ("leader", STRING), ("term", U64),
                ("previous", STRING), ("by", STRING))),
    # -- the incident lifecycle: 38-43 --
    38: ("incident_acknowledged",
         struct("incident_acknowledged", ("incident", DIGEST), ("by", STRING),
                ("owner", STRING), ("note", STRING))),
    39: ("incident_noted", INCIDENT_REMARK),
    40: ("incident_severity_changed",
         struct("incident_severity_changed", ("incident", DIGEST), ("by", STRING),
                ("from", SEVERITY), ("to", SEVERITY), ("reason", STRING))),
    41: ("incident_resolved", INCIDENT_REMARK),
    42: ("incident_reopened", INCIDENT_REMARK),
    43: ("incident_closed_by_operator",
         struct("incident_closure", ("incident", DIGEST), ("by", STRING),
                ("resolution", STRING), ("mttr", TIMESPAN))),
    44: ("notification_sent",
         struct("notification_sent", ("webhook", STRING), ("kind", STRING),
                ("event_seq", U64), ("status", enum("delivery status", 1, 3)),
                ("attempts", U32), ("reason", STRING))),
    # -- flight analysis: 45 --
    45: ("analysis_failed",
         struct("analysis_failed", ("proposal", DIGEST), ("step", U32), ("service", STRING),
                ("from", TIME), ("to", TIME), ("samples", U32), ("breaches", U32),
                ("failure_limit", U32), ("worst_region", STRING), ("worst_ppm", U32),
                ("threshold_ppm", U32), ("reason", STRING))),
    # -- the fleet-wide blast budget: 46 --
    46: ("budget_charged",
         struct("budget_charged", ("proposal", DIGEST), ("principal", STRING),
                ("entries", list_of(struct("budget_entry", ("resource", STRING),
                                           ("service", STRING), ("region", STRING)))),
                ("window", TIMESPAN), ("until", TIME))),
    # -- approval evidence: 47 --
    47: ("approval_checked",
         struct("approval_checked", ("proposal", DIGEST), ("approver", STRING),
                ("approve", BOOL), ("role", STRING), ("grant", optional(LEVEL)),
                ("gates", list_of(GATE_RESULT)))),
    # -- the audit queue of level-4 changes: 48 --
    48: ("audit_acknowledged",
         struct("audit_acknowledged", ("proposal", DIGEST), ("by", STRING), ("note", STRING))),
    # -- audited policy: 49-52 --
    49: ("policy_changed",
         struct("policy_changed", ("version", STRING), ("previous", STRING), ("by", STRING),
                ("cause", STRING),
                ("changes", list_of(struct("policy_change", ("key", STRING),
                                           ("before", optional(STRING)),
                                           ("after", optional(STRING))))),
                ("entries", list_of(POLICY_ENTRY)))),
    50: ("policy_refused",
         struct("policy_refused", ("by", STRING), ("cause", STRING), ("reason", STRING))),
    51: ("decision_basis",
         struct("decision_basis", ("proposal", DIGEST), ("policy_version", STRING),
                ("services", list_of(STRING)), ("regions", list_of(STRING)),
                ("approval_window", optional(TIMESPAN)))),
    52: ("quarantine_changed",
         struct("quarantine_changed", ("principal", STRING), ("quarantined", BOOL),
                ("by", STRING), ("reason", STRING))),
    # -- failed compensations: 53 --
    53: ("compensation_failed",
         struct("compensation_failed", ("proposal", DIGEST), ("step", U32),
                ("change", MUTATION), ("restore", optional(STRING)), ("code", CODE),
                ("message", STRING), ("incident", DIGEST))),
    # -- a proposal's own approval window: 54 --
    54: ("approval_window",
         struct("approval_window", ("proposal", DIGEST), ("window", TIMESPAN))),
}

# -- fleet_state ("fleet_state"): no enum inside it is range-checked ------------------

RESOURCE_STATE = struct("resource_state", ("service", STRING), ("region", STRING),
                        ("attributes", map_of(STRING, STRING)), ("retired", BOOL),
                        ("last_change", U64))
GRANT_STATE = struct("grant_state", ("level", U8), ("until", optional(TIME)))
PROPOSAL_STATE = struct("proposal_state", ("key", DIGEST), ("decided_seq", U64),
                        ("started", U32))
DECIDED_PROPOSAL = struct("decided_proposal", ("key", DIGEST), ("proposal", DIGEST),
                          ("decided_seq", U64), ("code", U8), ("status", U8))
CANDIDATE_STATE = struct("candidate_state", ("service", STRING), ("region", STRING),
                         ("onset", TIME), ("error_ppm", U32), ("culprits", list_of(U64)),
                         ("policy", STRING), ("verdict", U8), ("incident", DIGEST),
                         ("decision", DIGEST), ("detected_after", TIMESPAN))
INCIDENT_STATE = struct("incident_state", ("candidate", DIGEST), ("service", STRING),
                        ("region", STRING), ("level", U8), ("onset", TIME),
                        ("respond_by", TIME), ("culprits", list_of(U64)),
                        ("rollback_level", U8), ("status", U8), ("rollback", DIGEST),
                        ("rollback_result", U8), ("mttr", TIMESPAN),
                        ("acknowledged", BOOL), ("owner", STRING), ("resolution", STRING),
                        ("notes", U32))
BUDGET_CHARGE = struct("budget_charge", ("region", STRING), ("proposal", DIGEST),
                       ("until", TIME))
AUDIT_ENTRY = struct("audit_entry", ("principal", STRING), ("decided_seq", U64),
                     ("finished_seq", U64), ("steps", U32), ("applied", U32),
                     ("succeeded", BOOL), ("code", U8))
AUDIT_FLIGHT = struct("audit_flight", ("principal", STRING), ("decided_seq", U64),
                      ("steps", U32))
AUDIT_QUEUE = struct("audit_queue", ("pending", map_of(DIGEST, AUDIT_ENTRY)),
                     ("running", map_of(DIGEST, AUDIT_FLIGHT)))
FLEET_STATE = struct("fleet_state", ("seq", U64),
                     ("resources", map_of(STRING, RESOURCE_STATE)),
                     ("grants", map_of(STRING, GRANT_STATE)),
                     ("decided", sorted_list_of(DECIDED_PROPOSAL, "key")),
                     ("proposals", map_of(DIGEST, PROPOSAL_STATE)),
                     ("breakers", map_of(STRING, U8)),
                     ("halted", BOOL),
                     ("counts", map_of(U8, U64)),
                     ("candidates", map_of(DIGEST, CANDIDATE_STATE)),
                     ("incidents", map_of(DIGEST, INCIDENT_STATE)),
                     ("reverted", map_of(U64, DIGEST)),
                     ("dead_letters", map_of(U64, DEAD_LETTERED)),
                     ("budget", map_of(STRING, map_of(STRING, BUDGET_CHARGE))),
                     ("audit", AUDIT_QUEUE),
                     ("policy_version", STRING),
                     ("policy", list_of(POLICY_ENTRY)),
                     ("quarantined", map_of(STRING, U64)))


# -- the journal ---------------------------------------------------------------------

def be(b):
    return int.from_bytes(b, "big")


class Verdict:
    def __init__(self):
        self.ok = True
        self.first_bad = None
        self.reason = None
        self.checked = 0
        self.head = 0
        self.chain = bytes(32)
        self.types = {}
        self.snapshots = []

    def bad(self, seq, reason):
        self.ok, self.first_bad, self.reason = False, seq, reason
        return self


def check_header(seq, ev):
    """Returns the reason the 30-byte header of `ev` is bad, or None."""
    if len(ev) < HEADER_SIZE:
        return "shorter than the record header"
    if ev[0] != 1:
        return f"unknown record version {ev[0]}"
    if ev[1] not in EVENT_TYPES:
        return f"unknown event type {ev[1]}"
    if be(ev[2:10]) != seq:
        return f"holds seq {be(ev[2:10])}"
    if be(ev[26:30]) != len(ev) - HEADER_SIZE:
        return "payload length does not match the record size"
    return None


def stray_key(key):
    """The reason for a key that is not the next seq and not a later one: a key that is
    not 8 bytes, or seq 0 (shown by its first 32 bytes)."""
    return f"stray key {key[:32].hex()}" + ("..." if len(key) > 32 else "")


def walk_events(txn, events, verdict):
    """Checks every record in key order; returns with verdict.bad(...) at the first."""
    prev = bytes(32)
    last = 0
    cursor = txn.cursor(db=events)
    try:
        for key, value in cursor:
            seq = last + 1
            if len(key) == 8 and be(key) > seq:
                return verdict.bad(seq, f"missing (next stored record is {be(key)})")
            if len(key) != 8 or be(key) != seq:
                return verdict.bad(seq, stray_key(key))
            if len(value) < CHAIN_SIZE + HEADER_SIZE:
                return verdict.bad(seq, "record too short")
            chain, ev = value[:CHAIN_SIZE], value[CHAIN_SIZE:]
            reason = check_header(seq, ev)
            if reason:
                return verdict.bad(seq, reason)
            h = hashlib.sha256(prev)
            h.update(ev)
            prev = h.digest()
            if prev != chain:
                return verdict.bad(seq, "chain hash does not match (record or stored hash altered)")
            name, payload_type = EVENT_TYPES[ev[1]]
            try:
                decode_exactly(ev[HEADER_SIZE:], payload_type, name)
            except Invalid as e:
                return verdict.bad(seq, f"{name} payload does not decode: {e}")
            verdict.types[name] = verdict.types.get(name, 0) + 1
            verdict.checked += 1
            last = seq
    except lmdb.Error as e:
        return verdict.bad(last + 1, f"missing (LMDB error: {e})")
    verdict.head, verdict.chain = last, prev
    return verdict


def check_head(txn, meta, verdict):
    """The stored head must name exactly the newest record ("What verify checks")."""
    last = verdict.head
    head = txn.get(b"head", db=meta)
    if head is None or len(head) != 40:
        return verdict.bad(last + 1, "the stored head record is missing or malformed")
    head_seq, head_chain = be(head[:8]), head[8:]
    if head_seq > last:
        return verdict.bad(last + 1, f"missing (the stored head names seq {head_seq})")
    if head_seq < last:
        return verdict.bad(head_seq + 1, f"beyond the stored head (seq {head_seq})")
    if last > 0 and head_chain != verdict.chain:
        return verdict.bad(last, "chain hash differs from the stored head")
    return verdict


def snapshot_problem(txn, events, key, value):
    """Returns why a snapshot is unusable (the documented order of checks), or None."""
    if len(key) != 8:
        return "key is not 8 bytes"
    if len(value) < SNAPSHOT_HEADER:
        return "shorter than the snapshot header"
    if value[0] != SNAPSHOT_VERSION:
        return f"unknown snapshot version {value[0]}"
    seq = be(value[1:9])
    if seq != be(key):
        return f"holds seq {seq}"
    chain, state_digest, length = value[9:41], value[41:73], be(value[73:77])
    state = value[SNAPSHOT_HEADER:]
    if length != len(state):
        return "state length does not match the snapshot size"
    if hashlib.sha256(state).digest() != state_digest:
        return "state digest does not match the state bytes"
    record = txn.get(key, db=events)
    if record is None or len(record) < CHAIN_SIZE or record[:CHAIN_SIZE] != chain:
        return "chain differs from the chain of that record"
    try:
        decoded = decode_exactly(state, FLEET_STATE, "fleet_state")
    except Invalid as e:
        return f"state does not decode: {e}"
    if decoded["seq"] != seq:
        return f"state is at seq {decoded['seq']}"
    return None


def check_snapshots(txn, events, snapshots, verdict):
    for key, value in txn.cursor(db=snapshots):
        problem = snapshot_problem(txn, events, key, value)
        verdict.snapshots.append({
            "seq": be(key) if len(key) == 8 else None,
            "usable": problem is None,
            "reason": problem,
            "state_digest": value[41:73].hex() if problem is None else None,
        })


def open_env(path):
    """Opens the environment read-only; raises NotAJournal or returns (env, verdict)."""
    if not os.path.isdir(path):
        raise NotAJournal("no such directory" if not os.path.exists(path) else "not a directory")
    if not os.access(path, os.R_OK | os.X_OK):
        raise NotAJournal("permission denied")
    data = os.path.join(path, "data.mdb")
    if not os.path.isfile(data):
        raise NotAJournal("not a Bulwark journal (no data.mdb in it)")
    if not os.access(data, os.R_OK):
        raise NotAJournal("data.mdb: permission denied")
    size = os.path.getsize(data)
    if size < 2 * 4096:
        return None, Verdict().bad(0, f"data.mdb truncated or not an LMDB file ({size} bytes)")
    # Beside a live writer the reader slot in lock.mdb protects the pages read; without a
    # lock file nobody writes, and lock=False creates nothing.
    lock = os.path.exists(os.path.join(path, "lock.mdb"))
    try:
        env = lmdb.open(path, readonly=True, lock=lock, max_dbs=3, subdir=True, create=False)
    except lmdb.Error as e:
        raise NotAJournal(f"cannot open as LMDB: {e}")
    needed = (env.info()["last_pgno"] + 1) * env.stat()["psize"]
    if size < needed:
        env.close()
        return None, Verdict().bad(0, f"data.mdb truncated ({size} bytes, the journal needs {needed})")
    return env, None


def open_named_db(env, name):
    try:
        return env.open_db(name, create=False)
    except lmdb.MapResizedError:
        raise
    except lmdb.Error as e:
        raise NotAJournal(f"not a Bulwark journal (no {name.decode()} database: {e})")


def verify(path):
    env, early = open_env(path)
    if early:
        return early
    try:
        for attempt in range(5):
            try:
                meta, events, snapshots = (open_named_db(env, name)
                                           for name in (b"meta", b"events", b"snapshots"))
                txn = env.begin(buffers=False)
                break
            except lmdb.MapResizedError:
                # A writer grew the map since we opened: adopt its size and try again.
                env.set_mapsize(0)
        else:
            raise NotAJournal("the map keeps growing under the reader")
        with txn:
            magic = txn.get(b"magic", db=meta)
            if magic is None:
                raise NotAJournal("not a Bulwark journal (no magic record)")
            if magic != MAGIC:
                raise NotAJournal("not a Bulwark journal (wrong magic)")
            fmt = txn.get(b"format", db=meta)
            if fmt is None or len(fmt) != 4:
                raise NotAJournal("journal has no format version")
            if be(fmt) == 0:
                raise NotAJournal("journal format version 0 is invalid")
            if be(fmt) > FORMAT_VERSION:
                raise NotAJournal(f"journal format version {be(fmt)} is newer than this "
                                  f"verifier reads ({FORMAT_VERSION})")
            verdict = Verdict()
            walk_events(txn, events, verdict)
            if verdict.ok:
                check_head(txn, meta, verdict)
            check_snapshots(txn, events, snapshots, verdict)
            return verdict
    finally:
        env.close()


def main(argv):
    args = argv[1:]
    if any(a in ("-h", "--help") for a in args):
        print(__doc__.strip())
        return EXIT_OK
    as_json = "--json" in args
    rest = [a for a in args if a != "--json"]
    if len(rest) != 1 or rest[0].startswith("-"):
        print("usage: verify_journal.py DIR [--json]", file=sys.stderr)
        return EXIT_USAGE
    path = rest[0]
    try:
        verdict = verify(path)
    except (NotAJournal, lmdb.Error, OSError) as e:
        print(f"verify_journal.py: {path}: {e}", file=sys.stderr)
        if as_json:
            print(json.dumps({"ok": False, "status": "ERROR", "error": str(e)}))
        return EXIT_UNREADABLE
    for s in verdict.snapshots:
        if not s["usable"]:
            print(f"note: snapshot {s['seq']} is unusable: {s['reason']}", file=sys.stderr)
    if as_json:
        out = {"ok": verdict.ok, "status": "OK" if verdict.ok else "BAD",
               "checked": verdict.checked}
        if verdict.ok:
            out.update(head=verdict.head, chain=verdict.chain.hex())
        else:
            out.update(first_bad=verdict.first_bad, reason=verdict.reason)
        out.update(types=verdict.types, snapshots=verdict.snapshots)
        print(json.dumps(out))
    elif verdict.ok:
        print(f"OK {verdict.head} {verdict.chain.hex()}")
    else:
        print(f"BAD {verdict.first_bad} {verdict.reason}")
    return EXIT_OK if verdict.ok else EXIT_BAD


if __name__ == "__main__":
    sys.exit(main(sys.argv))
