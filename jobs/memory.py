"""How the jobs process keeps garbage collection cheap during large passes."""

import gc


def settle_after_start() -> None:
    """Keep the collector off what start-up loaded, and collect young objects less often.

    Everything the process loaded by now (modules, API descriptions, compiled templates, the
    job registry) lives as long as the process. `gc.freeze` moves it out of the collector's
    generations, so a pass that allocates millions of short-lived objects (documenting thousands
    of wins) no longer walks it on every full collection: measured at 1,000 customers, the
    collector took about a sixth of the documentation pass. A higher first threshold makes
    young collections rarer; reference counting frees almost everything anyway.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 20, 20)
