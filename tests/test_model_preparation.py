"""A first run's model preparation is its own line in the ingest summary, apart from loading."""

from __future__ import annotations

import time

from kgbuild.relations.preparation import preparing
from kgbuild.workflows.document_stages import PREPARE_STAGE, StageClock, loading_models


def test_preparation_inside_loading_is_its_own_stage() -> None:
    clock = StageClock()
    with loading_models(clock):
        time.sleep(0.01)
        with preparing():
            time.sleep(0.3)
    assert clock.seconds[PREPARE_STAGE] >= 0.3
    assert 0.01 <= clock.seconds["load models"] < 0.3  # the preparation is not counted twice


def test_a_warm_run_has_no_preparation_line() -> None:
    clock = StageClock()
    with loading_models(clock):
        time.sleep(0.01)
    assert PREPARE_STAGE not in clock.seconds and clock.seconds["load models"] >= 0.01


def test_the_summary_names_the_number_format() -> None:
    from kgbuild.config import PipelineConfig
    from kgbuild.relations.device import number_format

    generator = PipelineConfig().generator
    assert number_format(generator.dtype, "cpu").startswith("float32 on cpu (")
    assert number_format("bfloat16", "cpu").startswith("bfloat16 on cpu (")
