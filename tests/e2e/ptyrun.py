#!/usr/bin/env python3
"""ptyrun.py -- runs a command on a pseudo-terminal, for the tests of what
vigil prints to a person: progress lines, colour, aligned columns.

Usage: python3 ptyrun.py OUT [--signal-on REGEX [--signal INT|TERM]] -- CMD ARG...

The command's standard input, output and error are the terminal; all it
writes goes to the file OUT. With --signal-on, the signal (default INT) is
sent to the command once, as soon as what it wrote matches REGEX (a Python
regular expression over the bytes). Prints the command's exit status (128 +
the signal's number when a signal ended it); a command still running after
300 seconds is killed (status 137).
"""
import os
import pty
import re
import select
import signal
import sys
import time


def main():
    args = sys.argv[1:]
    out, args = args[0], args[1:]
    regex, sig = None, signal.SIGINT
    while args and args[0] != "--":
        if args[0] == "--signal-on":
            regex = re.compile(args[1].encode())
        elif args[0] == "--signal":
            sig = getattr(signal, "SIG" + args[1])
        args = args[2:]
    cmd = args[1:]
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(cmd[0], cmd)
    data, sent, deadline = b"", False, time.monotonic() + 300
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO: the command is gone and the terminal closed
            break
        if not chunk:
            break
        data += chunk
        if regex and not sent and regex.search(data):
            os.kill(pid, sig)
            sent = True
    else:
        os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    with open(out, "wb") as f:
        f.write(data)
    code = os.waitstatus_to_exitcode(status)
    print(128 - code if code < 0 else code)


main()
