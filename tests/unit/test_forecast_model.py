"""The distributions of the forecasting model: Kaplan–Meier quantiles and draws from them."""

import numpy as np

from app.services.forecast.model import km_quantiles, quantile, sample


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
