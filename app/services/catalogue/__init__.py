"""What the item catalogue makes of a stage: decided items (DMN), 告知承诺, 容缺, engineering codes.

``decisions`` records which items a stage's decision tables chose (a ``run``
subscriber) and hands them their facts (a ``starting`` subscriber);
``commitments`` approves on commitment and starts the verification;
``gaps`` tracks materials tolerated as missing; ``engineering_codes`` issues the
level-2/3 codes.  May import ``trail``, ``organisation``, ``flows`` and ``workflow``.
"""
