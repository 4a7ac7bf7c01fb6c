#!/usr/bin/env python
"""Summarise a py-spy raw (collapsed stacks) profile: where the samples are, inclusive and self.

    py-spy record -p <daphne pid> -d 20 -r 100 --threads --format raw -o /tmp/daphne.raw
    .venv/bin/python bench/profile_summary.py /tmp/daphne.raw --top 25

Frames are `function (file:line)`; lines are folded per function (file + name). "inclusive" counts
a sample once for every function on its stack; "self" only for the innermost frame. Idle samples
(threads waiting in epoll/select or a lock) are counted apart, so percentages are of busy samples.
`--match reference/` restricts the inclusive list to frames whose file contains the text.
"""

import argparse
import re
from collections import Counter
from pathlib import Path

FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^:()]+)(?::\d+)?\)$")
# Innermost frames of a thread that waits (py-spy samples it with the GIL released).
IDLE = ("select (selectors.py", "poll (selectors.py", "wait (threading.py", "_worker (concurrent/futures/thread.py",
        "doPoll (twisted", "get (queue.py")  # fmt: skip


def frame_key(frame):
    match = FRAME.match(frame.strip())
    if not match:
        return frame.strip()
    path = match["file"]
    for marker in ("site-packages/", "lib/python3.11/", "wt-perf/"):
        if marker in path:
            path = path.split(marker, 1)[1]
    return f"{match['func']} ({path})"


def summarise(path, top, match):
    inclusive, self_time, threads = Counter(), Counter(), Counter()
    busy = idle = 0
    for line in Path(path).read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        frames = stack.split(";")
        n = int(count)
        threads[frames[0]] += n
        if any(marker in frames[-1] for marker in IDLE):
            idle += n
            continue
        busy += n
        keys = [frame_key(f) for f in frames[1:]]
        for key in set(keys):
            if not match or match in key:
                inclusive[key] += n
        if keys:
            self_time[keys[-1]] += n
    print(f"samples: busy {busy}, idle {idle}; per thread: {dict(threads.most_common(6))}")
    print(f"\n-- inclusive (% of busy){' matching ' + match if match else ''}")
    for key, n in inclusive.most_common(top):
        print(f"{100 * n / max(1, busy):5.1f}%  {key}")
    print("\n-- self (% of busy)")
    for key, n in self_time.most_common(top):
        print(f"{100 * n / max(1, busy):5.1f}%  {key}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("raw", help="py-spy record --format raw output")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--match", default="", help="only frames whose file contains this (inclusive list)")
    args = parser.parse_args()
    summarise(args.raw, args.top, args.match)


if __name__ == "__main__":
    main()
