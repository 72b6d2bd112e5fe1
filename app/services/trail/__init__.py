"""The audit trail (全程留痕): one row per thing that happened, who did it and to which instance.

Every other domain records here; it imports nothing of the other services.
"""
