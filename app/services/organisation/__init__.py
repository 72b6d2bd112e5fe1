"""Who handles what where (双集中): lane roles resolved to units by division, and re-routing.

``routing`` answers ``(role, division) -> unit`` from the materialised route table
(cached); ``routing_admin`` lets an administrator change a route and move open
tasks with it.  May import ``trail`` only.
"""
