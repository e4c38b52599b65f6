#!/usr/bin/env python3
"""Runs a command with stdout and stderr on a pseudo-terminal, so that it
believes it writes to a terminal, and prints what it wrote with each ESC byte
shown as `<ESC>`. Exits with the command's exit code.

usage: run-in-pty.py [--unset VAR]... -- COMMAND [ARGS...]
"""
import os
import pty
import subprocess
import sys


def main():
    args = sys.argv[1:]
    env = dict(os.environ)
    while args and args[0] == "--unset":
        env.pop(args[1], None)
        args = args[2:]
    if args and args[0] == "--":
        args = args[1:]
    master, slave = pty.openpty()
    proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=slave, stderr=slave, env=env)
    os.close(slave)
    out = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # EIO: the other side is closed
            break
        if not chunk:
            break
        out += chunk
    os.close(master)
    code = proc.wait()
    text = out.replace(b"\r\n", b"\n").replace(b"\x1b", b"<ESC>")
    sys.stdout.buffer.write(text)
    return code


if __name__ == "__main__":
    sys.exit(main())
