"""Cluster: what keeps several nodes of the platform in step through the database.

The lowest layer: cache epochs (``epochs``) that every node watches, so a change
made on one node is honoured by the others within ``CACHE_CHECK_SECONDS``; and the
object storage of uploaded materials and issued documents (``app.storage``) is
chosen by settings, not here.
"""
