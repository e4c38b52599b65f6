"""peak_memory.py LIMIT_MB COMMAND...: runs COMMAND (its output passes
through) and fails when its peak resident memory exceeds LIMIT_MB, or when
it fails. For tests whose point is that memory does not grow out of bounds."""
import resource
import subprocess
import sys

limit_mb = int(sys.argv[1])
status = subprocess.call(sys.argv[2:])
peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
if status != 0:
    sys.exit(status)
if peak_mb > limit_mb:
    print("peak_memory.py: %.0f MB, over the limit of %d MB" % (peak_mb, limit_mb), file=sys.stderr)
    sys.exit(1)
