"""Sum up a STRIX_TASK_TIMES record (tests/support/callback_plugins/task_times.py): the slowest tasks, and each
playbook's seconds. Usage: python tests/support/task_times.py FILE [N]"""
import collections
import sys


def main(path, top=25):
    by_pid = collections.defaultdict(list)
    for line in open(path):
        stamp, pid, playbook, what = line.rstrip("\n").split("\t", 3)
        by_pid[pid].append((float(stamp), playbook, what))
    tasks, playbooks = [], []
    for events in by_pid.values():
        start = events[0][0]
        for (t0, playbook, what), following in zip(events, events[1:]):
            t1 = following[0]
            if what not in ("PLAYBOOK START", "PLAYBOOK END"):
                tasks.append((t1 - t0, playbook, what))
        playbooks.append((events[-1][0] - start, events[0][1], time_of(start)))
    print("slowest tasks (seconds, playbook, task):")
    for seconds, playbook, what in sorted(tasks, reverse=True)[:top]:
        print("%8.1f  %-22s %s" % (seconds, playbook, what[:110]))
    print("\nplaybook runs in order (seconds, playbook, start):")
    for seconds, playbook, start in sorted(playbooks, key=lambda p: p[2]):
        print("%8.1f  %-22s %s" % (seconds, playbook, start))


def time_of(stamp):
    import time
    return time.strftime("%H:%M:%S", time.localtime(stamp))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 25)
