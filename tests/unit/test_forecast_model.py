"""The distributions of the forecasting model: Kaplan–Meier quantiles and draws from them."""

import numpy as np

from app.services.forecast.model import km_quantiles, outcome_shares, quantile, sample


def test_without_censoring_the_quantiles_are_the_empirical_ones():
    times = [float(v) for v in range(1, 101)]
    q = km_quantiles(times, [True] * 100)
    assert len(q) == 101 and q == sorted(q)
    assert q[50] == 50.0 and q[90] == 90.0 and q[100] == 100.0


def test_censored_times_push_the_distribution_up():
    times = [float(v) for v in range(1, 101)]
    seen = [v % 2 == 0 or v < 50 for v in range(1, 101)]   # half of the long ones still open
    assert km_quantiles(times, seen)[50] > km_quantiles([t for t, s in zip(times, seen, strict=True) if s],
                                                        [True] * sum(seen))[50]


def test_all_censored_gives_the_elapsed_times():
    assert km_quantiles([3.0, 5.0], [False, False])[100] == 5.0


def test_residual_draws_respect_the_elapsed_time():
    q = km_quantiles([float(v) for v in range(1, 21)], [True] * 20)
    draws = sample(q, np.random.default_rng(1), 500, above=12.0)
    assert draws.min() >= 12.0 - 1e-9 and draws.max() <= 20.0
    plain = sample(q, np.random.default_rng(1), 2000)
    assert abs(float(np.median(plain)) - quantile(q, 0.5)) < 1.5


def _model(**tasks):
    return {"tasks": {key: {"done": sum(sum(r.values()) for r in o.values()), "q": [1.0] * 101, "outcomes": o}
                      for key, o in tasks.items()}}


def test_a_reexamination_seen_once_leans_on_the_pooled_shares():
    """A re-review of one item seen once, corrected again, must not make every simulated one correct
    again: that is a loop the simulation never leaves."""
    pooled = {"first": {"approve": 90, "correct": 10}, "again": {"approve": 62, "correct": 2}}
    model = _model(**{"review.schema.json||": pooled, "review.schema.json||fire": pooled,
                      "review.schema.json|S3-FIRE|fire": {"first": {"approve": 5, "correct": 1},
                                                          "again": {"correct": 1}}})
    again = outcome_shares(model, "review.schema.json", "S3-FIRE", "fire", True)
    assert abs(sum(again.values()) - 1) < 1e-9
    assert 0.031 < again["correct"] < 0.5  # above the pooled 3 %, far from the observed 100 %
    first = outcome_shares(model, "review.schema.json", "S3-FIRE", "fire", False)
    assert 0.1 < first["correct"] < 1 / 6


def test_many_observations_speak_for_themselves_and_unseen_rounds_take_the_first():
    model = _model(**{"review.schema.json||": {"first": {"approve": 9, "correct": 1}, "again": {}},
                      "review.schema.json|S1|drc": {"first": {"approve": 500, "refuse": 500}, "again": {}}})
    first = outcome_shares(model, "review.schema.json", "S1", "drc", False)
    assert abs(first["refuse"] - 0.5) < 0.01 and first["correct"] < 0.001
    assert outcome_shares(model, "review.schema.json", "S1", "drc", True) == first
    assert outcome_shares(model, "unknown.schema.json", None, None, False) == {}


def test_the_shares_come_in_a_fixed_order_whatever_the_hash_seed():
    """The simulation walks the shares in order with one uniform draw: a set's order (which
    changes with PYTHONHASHSEED) would make the same seed give another forecast in another process."""
    model = _model(**{"review.schema.json||": {"first": {"refuse": 1, "approve": 9, "correct": 1}, "again": {}},
                      "review.schema.json|S1|drc": {"first": {"correct": 2, "approve": 8}, "again": {}}})
    assert list(outcome_shares(model, "review.schema.json", "S1", "drc", False)) == ["approve", "correct", "refuse"]
