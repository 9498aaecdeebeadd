#!/usr/bin/env python3
"""The fleet's exec effector (docs/effectors.md): reads the request on stdin and writes
the resource's setting into its file in $FLEET_STATE; a compensation writes `restore`
back (null: removes the file, so the instance runs its default again). Exit 0: applied;
exit 2: a request it cannot apply (not retried)."""
import json
import os
import sys


def main():
    req = json.load(sys.stdin)
    state = os.environ["FLEET_STATE"]
    resource, key = req["resource"], req["key"]
    if key != "release" or not resource.replace("-", "").isalnum():
        print("only the release of a fleet instance can be set", file=sys.stderr)
        return 2
    path = os.path.join(state, resource + "." + key)
    value = req["restore"] if req["compensation"] else req["value"]
    if value is None:
        if os.path.exists(path):
            os.remove(path)
        return 0
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(value + "\n")
    os.replace(tmp, path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
