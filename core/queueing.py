"""Sending task messages from services.

Every task a service queues has a sweep behind it (beat re-queues what is
due or pending), so a broker that is down when a message is sent must not
fail the change that was just committed: the failure is logged, with what
will pick the work up instead.
"""

from __future__ import annotations

import logging

from celery import current_app

log = logging.getLogger(__name__)


def enqueue(task_name: str, *args: object, fallback: str) -> bool:
    """Queue `task_name` (routed by name, see CELERY_TASK_ROUTES); False if the broker refused it.

    Through Celery's current app (the project's, created when Django loads its
    settings), so that core imports nothing from the project's wiring.
    """
    try:
        current_app.send_task(task_name, args=args)
    except Exception:  # any broker or connection error: the sweep named in `fallback` covers it
        log.warning("could not queue %s%r; %s", task_name, args, fallback)
        return False
    return True
