"""`runner.run_each`: tasks in a forked worker with the run's deadline and memory limit (what
`pe-policy verify` runs its tests with)."""

from __future__ import annotations

import os
import time

import pytest

from pe_policy.runner import Limits, fork_available, run_each


def _task(number: int) -> tuple[int, int]:
    if number == 1:
        time.sleep(30)  # past the deadline
    if number == 3:
        raise ValueError("task 3 is broken")
    if number == 5:
        os._exit(9)  # the worker dies
    return number, os.getpid()


@pytest.mark.skipif(not fork_available(), reason="no fork on this platform")
def test_each_task_has_the_deadline_and_a_stop_moves_on() -> None:
    started = time.monotonic()
    results, finished = run_each(7, _task, Limits(timeout=1, memory_mb=512),
                                 stopped=lambda number, reason: ("stopped", number, reason),
                                 finish=lambda: "finished")
    assert time.monotonic() - started < 20
    assert [r[0] for r in results] == [0, "stopped", 2, "stopped", 4, "stopped", 6]
    assert "did not finish within the evaluation deadline of 1 s" in results[1][2]
    assert results[3][2] == "ValueError: task 3 is broken"
    assert "exit status 9" in results[5][2]
    assert all(r[1] != os.getpid() for r in results if r[0] != "stopped")  # never here
    assert finished == ["finished"]  # the last worker got past its last task


def test_without_limits_tasks_run_here() -> None:
    results, finished = run_each(3, lambda n: (n, os.getpid()), Limits(None, None),
                                 stopped=lambda n, reason: None, finish=lambda: "done")
    assert results == [(0, os.getpid()), (1, os.getpid()), (2, os.getpid())]
    assert finished == ["done"]
