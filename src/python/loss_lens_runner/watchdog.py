"""A daemon thread of the runner that keeps working whatever the script's main thread does:
- the host's polite stop (a `stop` file in the run's control folder): the run ends at once, from this thread;
- the host gone (re-parented, or its pid gone): the whole run is killed (containment.reap_run);
- without a cgroup, the run's descendants are recorded each poll.
A main thread that holds the GIL in native code for long never lets this run: the host SIGKILLs after its grace.
"""
import os
import threading

from .containment import DescendantRecord, host_gone, reap_run

STOP_POLL_S = 0.05
HOST_POLL_S = 0.25


def start(watch, on_stop):
    record = DescendantRecord(watch.get('record_file'))
    stop_path = os.path.join(watch['control_dir'], watch['stop_file'])
    exists = os.path.exists
    wait = threading.Event().wait

    def loop():
        ticks_per_host_poll = max(1, int(HOST_POLL_S / STOP_POLL_S))
        tick = 0
        while True:
            if exists(stop_path):
                on_stop()
                return
            if tick % ticks_per_host_poll == 0:
                record.record()
                if host_gone(watch['host_pid'], watch['parent_pid']):
                    record.record()
                    reap_run(watch)
            tick += 1
            wait(STOP_POLL_S)

    thread = threading.Thread(target=loop, name='loss-lens-watchdog', daemon=True)
    thread.start()
    return record
