"""The jobs process keeps what start-up loaded out of the collector's way."""

import gc

from jobs.memory import settle_after_start


def test_start_up_objects_are_frozen_and_young_collections_are_rarer():
    thresholds = gc.get_threshold()
    gc.unfreeze()  # another test may have run the jobs command line in this process
    gc.set_threshold(700, 10, 10)  # Python's defaults
    try:
        settle_after_start()
        assert gc.get_freeze_count() > 10_000  # modules, classes, functions at least
        assert gc.get_threshold()[0] > 700
        assert gc.isenabled()  # still collects cycles made during passes
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)
