"""The national data exchange (SPGL 前置库) and the event-log export.

``tables`` describes the SPGL tables (fields, required ones, code tables, the
parent each row waits for) and ``frontdb`` builds them in the front database
named by ``HN_SPGL_URL``.  ``extract`` derives the rows from the platform's own
records (flows, stages, projects, item handlings and their state changes,
special procedures, issued results, materials); ``push`` validates them, writes
new and changed rows in the load order, invalidates superseded ones (never
deletes), reads back SJSCZT/SBYY and re-pushes corrected rows; ``simulator`` is a
small national side for tests and the demo.  ``codes`` holds the
administrator-editable code tables.  ``eventlog`` streams the trail as XES
(IEEE 1849) and OCEL 2.0 JSON for process-mining tools.

This package may import every domain below it (trail … people); nothing below
imports it.
"""
