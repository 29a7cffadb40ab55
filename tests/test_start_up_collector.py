"""The cycle collector is paused for start-up (`pause_collector`, called by cli.run) and back on
once inputs are loaded (`resume_collector`, in runner.run and run_each): a run that never
resumed it would keep every cyclic garbage object until it exits, and no report would show it."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pe_policy import pause_collector, resume_collector
from pe_policy.config import Config
from pe_policy.engine.pack import load_ruleset
from pe_policy.pipeline import check
from pe_policy.runner import Limits, run_each


@pytest.fixture
def paused() -> Iterator[None]:
    assert gc.isenabled()
    pause_collector()
    assert not gc.isenabled()
    try:
        yield
    finally:
        resume_collector()  # if the code under test did not
        gc.unfreeze()  # what start-up froze: this test process's objects, collected again
        gc.enable()


def _check_one_file(tmp_path: Path) -> None:
    (tmp_path / "values.json").write_text('{"a": 1}\n', encoding="utf-8")
    check([tmp_path / "values.json"], tmp_path, config=Config(), ruleset=load_ruleset([]))


def _run_no_task(_tmp_path: Path) -> None:
    run_each(0, lambda _n: None, Limits(timeout=None, memory_mb=None), stopped=lambda *_: None)


@pytest.mark.parametrize("work", [_check_one_file, _run_no_task], ids=["run", "run_each"])
@pytest.mark.usefixtures("paused")
def test_the_collector_is_back_on_once_inputs_are_loaded(
        tmp_path: Path, work: Callable[[Path], None]) -> None:
    work(tmp_path)
    assert gc.isenabled()


def test_a_caller_s_own_setting_stands() -> None:
    """A program that turned the collector off itself keeps it off."""
    gc.disable()
    try:
        pause_collector()
        resume_collector()
        assert not gc.isenabled()
    finally:
        gc.enable()
