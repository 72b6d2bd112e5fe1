"""The deployed flow definitions: versions of the BPMN/DMN file sets, which one is active.

``deployments`` validates and stores a file set as a version; ``versions``
publishes, compares, re-activates and exports them.  Running instances and
their migration between versions belong to ``workflow``.  May import
``trail`` only.
"""
