#!/usr/bin/python3
"""Independent Bulwark journal verifier, written from docs/journal-format.md only.

Usage: verify_journal.py DIR [--json]
Prints "OK <head seq> <head chain hex>" (exit 0) or "BAD <seq> <reason>" (exit 3);
exit 2 when DIR is not a readable Bulwark journal. Decodes every payload by the
documented field lists, so a payload the document does not describe is reported too.
"""
import hashlib
import json
import os
import struct
import sys

import lmdb


class Bad(Exception):
    pass


class Reader:
    def __init__(self, data):
        self.data, self.pos = data, 0

    def take(self, n):
        if self.pos + n > len(self.data):
            raise Bad("truncated payload")
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def u(self, n):
        return int.from_bytes(self.take(n), "big")

    def i64(self):
        return int.from_bytes(self.take(8), "big", signed=True)

    def boolean(self):
        b = self.u(1)
        if b > 1:
            raise Bad("bad boolean")
        return b == 1

    def string(self):
        return self.take(self.u(4)).decode("utf-8", "replace")

    def digest(self):
        return self.take(32).hex()

    def optional(self, f):
        return f() if self.boolean() else None

    def list(self, f):
        return [f() for _ in range(self.u(4))]

    def map(self, k, v):
        out, last = {}, None
        for _ in range(self.u(4)):
            key = k()
            if last is not None and not key > last:
                raise Bad("map keys not ascending")
            out[key], last = v(), key
        return out


def enum(r, hi, lo=0):
    x = r.u(1)
    if not lo <= x <= hi:
        raise Bad(f"enum value {x} out of range")
    return x


def mutation(r):
    return [r.string(), r.string(), r.string()]


def gate_result(r):
    return [enum(r, 13, 1), r.boolean(), r.string()]


def approval(r):
    return [r.digest(), r.string(), r.string()]


def halt(r):
    return [r.string(), r.string()]


PAYLOADS = {
    1: lambda r: [r.string(), r.string(), r.string(), r.map(r.string, r.string)],
    2: lambda r: [r.string(), r.string()],
    3: lambda r: [r.digest(), r.string(), r.string(), enum(r, 4), r.string(), r.string(),
                  r.boolean(), enum(r, 15), r.string(), r.u(4), r.list(lambda: gate_result(r)),
                  r.list(lambda: mutation(r)), r.string()],
    4: lambda r: [r.digest(), r.u(4), mutation(r)],
    5: lambda r: [r.digest(), r.u(4), r.string(), r.string(), r.optional(r.string), r.string()],
    6: lambda r: [r.digest(), r.u(4), mutation(r), enum(r, 15), r.string()],
    7: approval,
    8: lambda r: [r.digest(), r.u(8), r.string(), r.string(), r.optional(r.string),
                  r.optional(r.string)],
    9: lambda r: [r.string(), enum(r, 4), enum(r, 4), r.string(), r.u(4), r.u(4)],
    10: lambda r: [r.string(), enum(r, 4), r.optional(r.i64), r.string(), r.string()],
    11: halt,
    12: halt,
    13: lambda r: [r.string(), r.string(), r.string(), r.boolean(), r.string()],
    14: approval,
    15: approval,
    16: lambda r: [r.digest(), r.string(), r.u(4)],
    17: lambda r: [r.digest(), r.boolean(), enum(r, 15), r.u(4), r.u(4), r.string()],
    18: lambda r: [r.string(), r.string(), r.string(), r.u(4), r.boolean()],
}


def check_record(seq, event):
    if len(event) < 30:
        raise Bad("record shorter than its header")
    if event[0] != 1:
        raise Bad(f"record version {event[0]}")
    if event[1] not in PAYLOADS:
        raise Bad(f"event type {event[1]}")
    if struct.unpack(">Q", event[2:10])[0] != seq:
        raise Bad("header seq differs from the key")
    if struct.unpack(">I", event[26:30])[0] != len(event) - 30:
        raise Bad("payload length differs from the record size")
    r = Reader(event[30:])
    PAYLOADS[event[1]](r)
    if r.pos != len(r.data):
        raise Bad("trailing bytes after the payload")


def verify(path):
    if not os.path.isfile(os.path.join(path, "data.mdb")):
        raise SystemExit(f"{path}: not a Bulwark journal (no data.mdb)")
    # Beside a live writer the lock file protects the pages read; without one nobody
    # writes, and lock=False changes nothing on disk.
    has_lock = os.path.exists(os.path.join(path, "lock.mdb"))
    env = lmdb.open(path, readonly=True, max_dbs=3, lock=has_lock)
    try:
        meta = env.open_db(b"meta", create=False)
        events = env.open_db(b"events", create=False)
    except lmdb.Error as e:
        raise SystemExit(f"{path}: not a Bulwark journal ({e})")
    with env.begin() as txn:
        if txn.get(b"magic", db=meta) != b"bulwark-journal":
            raise SystemExit(f"{path}: not a Bulwark journal (magic)")
        fmt = txn.get(b"format", db=meta)
        if fmt is None or len(fmt) != 4 or struct.unpack(">I", fmt)[0] != 1:
            raise SystemExit(f"{path}: unsupported format")
        head = txn.get(b"head", db=meta)
        prev, expected = bytes(32), 1
        for key, value in txn.cursor(db=events):
            seq = struct.unpack(">Q", key)[0]
            if seq != expected:
                return ("BAD", expected, "missing")
            chain, event = bytes(value[:32]), bytes(value[32:])
            try:
                check_record(seq, event)
            except Bad as e:
                return ("BAD", seq, str(e))
            prev = hashlib.sha256(prev + event).digest()
            if prev != chain:
                return ("BAD", seq, "chain hash does not match")
            expected += 1
        last = expected - 1
        if head is None or len(head) != 40:
            return ("BAD", last + 1, "head record missing")
        head_seq = struct.unpack(">Q", head[:8])[0]
        if head_seq > last:
            return ("BAD", last + 1, f"missing (head names {head_seq})")
        if head_seq < last:
            return ("BAD", head_seq + 1, "beyond the head")
        if last and head[8:] != prev:
            return ("BAD", last, "head chain differs")
        return ("OK", last, prev.hex())


def main():
    if len(sys.argv) < 2:
        print(__doc__.strip(), file=sys.stderr)
        return 1
    try:
        status, seq, detail = verify(sys.argv[1])
    except SystemExit as e:
        print(e, file=sys.stderr)
        return 2
    except lmdb.Error as e:
        print(f"{sys.argv[1]}: {e}", file=sys.stderr)
        return 2
    if "--json" in sys.argv[2:]:
        print(json.dumps({"status": status, "seq": seq, "detail": detail}))
    else:
        print(status, seq, detail)
    return 0 if status == "OK" else 3


if __name__ == "__main__":
    sys.exit(main())
