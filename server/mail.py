"""Outgoing email, through Django's email framework (configured by EMAIL_URL).

A message goes out only after the transaction that asked for it commits (a rolled-back
registration sends nothing), and, unless EMAIL_IN_BACKGROUND is off, from a small thread
pool: a slow mail server never holds up the request, and a request that may or may not
send mail (a password reset for an address nobody has) takes the same time either way.
A message that cannot be sent is logged; the flows that send mail all offer a way to ask
again. A worker stopping with messages still queued loses them.
"""

import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor, wait
from urllib.parse import urlencode

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import close_old_connections, connections, transaction

logger = logging.getLogger(__name__)

_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="mail")
_queued: set[Future] = set()
_queued_lock = threading.Lock()

# RFC 3834: a machine sent this; auto-responders should not answer it.
HEADERS = {"Auto-Submitted": "auto-generated", "X-Auto-Response-Suppress": "All"}


def public_link(path: str, **query: str) -> str:
    """A link into the client app at PUBLIC_BASE_URL (say, where a link's token is posted)."""
    return f"{settings.PUBLIC_BASE_URL}{path}" + (f"?{urlencode(query)}" if query else "")


def send_after_commit(*, to: str, subject: str, body: str) -> None:
    message = EmailMessage(
        subject=subject, body=body, from_email=settings.DEFAULT_FROM_EMAIL, to=[to], headers=dict(HEADERS)
    )
    run_after_commit(_send, message)


def run_after_commit(job, *args) -> None:
    """Runs ``job(*args)`` once the current transaction commits: in the background pool, or
    at once when EMAIL_IN_BACKGROUND is off. A job may read the database; the pool's
    thread closes its connection when the job ends."""
    transaction.on_commit(lambda: _dispatch(job, args))


def _dispatch(job, args) -> None:
    if not settings.EMAIL_IN_BACKGROUND:
        job(*args)
        return
    future = _pool.submit(_in_background, job, args)
    with _queued_lock:
        _queued.add(future)
    future.add_done_callback(_done)


def _done(future: Future) -> None:
    with _queued_lock:
        _queued.discard(future)


def _in_background(job, args) -> None:
    close_old_connections()
    try:
        job(*args)
    except Exception:
        logger.exception("A background mail job failed: %s", getattr(job, "__name__", job))
    finally:
        connections.close_all()


def _send(message: EmailMessage) -> None:
    try:
        message.send()
    except Exception:
        logger.exception("Could not send %r to %s", message.subject, ", ".join(message.to))


def wait_for_background_jobs(timeout: float = 30) -> None:
    """For tests of the background mode: returns once every queued job has run, the jobs
    those jobs queue included (a password reset's lookup queues its message while it runs,
    so one snapshot of the queue could miss the message)."""
    deadline = time.monotonic() + timeout
    while True:
        with _queued_lock:
            pending = [future for future in _queued if not future.done()]
        left = deadline - time.monotonic()
        if not pending or left <= 0:
            return
        wait(pending, timeout=left)
