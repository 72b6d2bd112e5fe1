"""中介服务 (intermediary services): registered firms, the public directory, selections and tracked contracts.

``registry`` keeps the firms (an enterprise with its qualifications: service,
grade, validity, the items it supports) and answers the public directory
(中介超市) with each firm's ratings and its late or refused services.
``contracts`` selects a firm for one project and service (direct choice, or a
random draw among the qualified firms whose seed and candidates are recorded so
anyone can repeat it), runs the ``intermediary_service`` process (the firm
accepts, delivers its report within the committed working days, the applicant
rates it), keeps the contract row beside it, turns the report into a material of
the items that need it, and gives supervisors the late and refused services and
the exchange its SPGL_ZJFWSXBLXXB rows.  May import every domain up to
``planning``; lower domains reach it only through ``app.hooks``.
"""
