"""Forecasting from the platform's own history: how long a stage will take, and what a redesign changes.

``model`` learns from the task rows, item handlings, special procedures and the
audit trail of a period how work really goes (handling times in working days
per item and department, outcome and branch frequencies, applicants'
correction turnaround, arrivals per flow type and division, unit load);
``store`` keeps the newest model in the ``forecast_model`` table and in the
process (the scheduler rebuilds it nightly).  ``simulate`` walks the real BPMN
specs with the real engine on a simulated clock, drawing times and decisions
from the model (or from the analyst's ``forecast_*`` properties for elements
without history); ``candidate`` compares a candidate version with the active
one; ``eta`` gives an applicant's running stage its expected completion from
where it stands; ``backtest`` learns from the first 80 % of history and
forecasts the rest.

It reads ``workflow`` (project data of a start), ``catalogue`` (the decision
facts) and ``flows`` (the active version); nothing below imports it.
"""
