"""项目策划生成 (project planning generation): plan layers, proposals, and what they hand to stage 1.

``zones`` keeps the administrator-editable plan layers of each division (GeoJSON
polygons with a kind: ecological red line, permanent farmland, forest, water
source protection, cultural relics protection, planned construction land) and
checks a site against them with Shapely, one finding per zone it touches, for the
department concerned.  ``generation`` proposes a project (its lead department:
发展改革 or 资规), runs the ``planning_generation`` process in which the
departments give their opinions and conditions in parallel, records the result
(策划生成结果) when the process ends, and hands it to stage 1 when that starts
(a ``starting`` subscriber): its facts feed the decision table, its required
items join the plan and the items it settled are skipped.  May import every
domain up to ``exchange``; nothing below calls it but through ``app.hooks``.
"""
