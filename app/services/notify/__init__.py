"""Notifications (消息提醒): what happened, told to the people it concerns.

``messages`` turns events (a task opened, a correction asked for, a time-limit
warning, a result issued, a 督办) into in-app notifications with unread counts
and queues the same text in the outbox for each channel the user has an address
for; ``outbox`` delivers that queue from the scheduler (claims, retries, once);
``channels`` are the senders: SMTP from the settings and a pluggable SMS gateway.
The workflow and time-limit layers below reach this domain only through hooks
(``task_opened``, ``finished``, ``notice_raised``).
"""
