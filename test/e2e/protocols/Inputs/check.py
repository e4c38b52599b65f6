"""Checks a protocol example's safety property on its output (examples/protocols).

usage: check.py MODE N [P] < output
  voting N P   every request committed once, each with a yes vote from all P participants
  twopc N P    every participant learns the same decision for each transaction, the client's outcome too
  paxos N R    at most one command per slot, each command in one slot, every replica learns all N
  kvs N        every read returns the value of the acknowledged write before it
  chat M P     every member hears every message, each sender's in order

Lines may carry a `[location/id] ` prefix (dfirc launch). Prints `OK MODE ...`
or the first violation (and exits 1)."""
import ast
import collections
import re
import sys


def rows():
    for line in sys.stdin:
        line = re.sub(r"^\[[^\]]*\] ", "", line.strip())
        if not line.startswith("("):
            continue
        line = re.sub(r"\btrue\b", "True", re.sub(r"\bfalse\b", "False", line))
        yield ast.literal_eval(line)


def fail(msg):
    print("VIOLATION: " + msg)
    sys.exit(1)


def main():
    mode, n = sys.argv[1], int(sys.argv[2])
    p = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    data = list(rows())
    if mode == "voting":
        votes = collections.defaultdict(set)
        commits = collections.Counter()
        for r in data:
            if r[0] == "vote" and r[3]:
                votes[r[1]].add(r[2])
            elif r[0] == "commit":
                commits[r[1]] += 1
        for i, c in commits.items():
            if c != 1:
                fail("request %d committed %d times" % (i, c))
            if len(votes[i]) != p:
                fail("request %d committed with yes votes from %s" % (i, sorted(votes[i])))
        if len(commits) != n:
            fail("%d requests committed, not %d" % (len(commits), n))
        print("OK voting %d committed" % n)
    elif mode == "twopc":
        decided = collections.defaultdict(dict)
        outcome = {}
        for r in data:
            if r[0] == "participant":
                m, tx, d = r[1], r[2], r[3]
                if m in decided[tx]:
                    fail("participant %d decided transaction %d twice" % (m, tx))
                decided[tx][m] = d
            elif r[0] == "outcome":
                outcome[r[1]] = "commit" if r[2] else "abort"
        if len(outcome) != n:
            fail("%d outcomes, not %d" % (len(outcome), n))
        commits = 0
        for tx, o in outcome.items():
            ds = decided[tx]
            if len(ds) != p:
                fail("transaction %d: only participants %s decided" % (tx, sorted(ds)))
            if set(ds.values()) != {o}:
                fail("transaction %d: decisions %s, outcome %s" % (tx, ds, o))
            commits += o == "commit"
        print("OK twopc %d decided alike (%d commits, %d aborts)" % (n, commits, n - commits))
    elif mode == "paxos":
        slot_of, id_of = {}, {}
        per_replica = collections.defaultdict(set)
        for r in data:
            if r[0] != "learn":
                continue
            m, s, i = r[1], r[2], r[3]
            if id_of.setdefault(s, i) != i:
                fail("slot %d holds commands %d and %d" % (s, id_of[s], i))
            if slot_of.setdefault(i, s) != s:
                fail("command %d is in slots %d and %d" % (i, slot_of[i], s))
            per_replica[m].add(s)
        if len(per_replica) != p or any(len(v) != n for v in per_replica.values()):
            fail("replicas learned %s slots" % {m: len(v) for m, v in per_replica.items()})
        print("OK paxos %d slots, one command each, on %d replicas" % (n, p))
    elif mode == "kvs":
        reads = [r for r in data if r[0] == "read"]
        for r in reads:
            if r[2] != r[1] * 10:
                fail("key%d read %d" % (r[1], r[2]))
        if len({r[1] for r in reads}) != n:
            fail("%d keys read back, not %d" % (len({r[1] for r in reads}), n))
        print("OK kvs %d reads saw their writes" % n)
    elif mode == "chat":
        heard = collections.defaultdict(list)
        for r in data:
            if r[0] == "heard":
                heard[(r[1], r[2])].append(r[3])
        for me in range(p):
            for sender in range(p):
                if heard[(me, sender)] != list(range(n)):
                    fail("member %d heard from %d: %s..." % (me, sender, heard[(me, sender)][:10]))
        print("OK chat %d members heard %d messages each, in order" % (p, n * p))
    else:
        fail("unknown mode " + mode)


main()
