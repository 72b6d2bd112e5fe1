"""gunicorn settings read from the working directory (``make run``, the bench, docs/operations.md).

Each worker builds the app (``app:create_app()``): about 260,000 long-lived objects (modules,
mappers, the catalogue, the specs).  Moving them out of the garbage collector's reach once the
worker is ready (``gc.freeze``, after a collection so that no garbage is kept) spares every full
collection from walking them again: in a stage-1 completion the full collections fell from
0.78 to 0.10 ms of CPU (``python -m bench.profile stage1 --plain --freeze``).  The price: an
object frozen here that is later dropped inside a reference cycle (an old catalogue after an
administrator's reload, say) is not reclaimed until the worker ends; ``max_requests`` recycles
workers should that ever add up.
"""

import gc


def post_worker_init(worker):
    """The worker has loaded the app: freeze what it holds for good."""
    gc.collect()
    gc.freeze()
