"""Oversight (实时跟踪掌握): the supervision dashboard's figures, scoped by the viewer's unit.

``scope`` decides what a viewer oversees (the province, a city with its
districts, or one unit); ``filters`` reads the period, division, flow type and
stage of a request; ``figures`` computes every figure live from the item
handlings, projects, tasks and notices (each finished handling keeps its working days); ``exports``
writes a figure as an ``.xlsx`` workbook or CSV.  Read-only: the 督办 tasks
themselves stay on the officers' workbench.
"""
