"""Email when a run fails or rejects records, once per distinct problem, and once on recovery.

The decision is pure (``decide``): a run's problem has a fingerprint; an email goes out
only when the fingerprint differs from the last one notified, so the same failure on every
cron run sends one email. A run with no problem after a notified one sends "recovered".
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

from dksync.cli.tables import brief, count_words
from dksync.config import Config, EmailConfig
from dksync.errors import DksyncError
from dksync.outcome import Action, RunReport
from dksync.state.store import State

log = logging.getLogger("dksync.notify")
CHANNEL = "email"


@dataclass(frozen=True, slots=True)
class Notice:
    subject: str
    body: str
    fingerprint: str | None


def fingerprint(report: RunReport) -> str | None:
    """What is wrong after this run, as a stable hash; None when nothing is. Built from
    reason codes and record ids, never from words: a message that carries a count of seconds
    or a server's changing text does not make a new email every run."""
    if report.fatal is not None:
        text = f"failed: {type(report.fatal).__name__}: {report.fatal.exit_code}"
    else:
        problems = sorted(
            f"{o.object_type}:{o.moment_id}:{o.action.value}:{o.code or ''}"
            for o in report.with_action(Action.REJECT, Action.UNCERTAIN)
        )
        if not problems:
            return None
        text = "\n".join(problems)
    return hashlib.sha256(text.encode()).hexdigest()


def decide(previous: str | None, report: RunReport) -> Notice | None:
    """The email to send after ``report``, given the last problem notified (or None)."""
    current = fingerprint(report)
    if current == previous:
        return None
    if current is None:
        return Notice(
            "[dksync] recovered: the last run wrote everything",
            "The last dksync run finished without failures or rejected records.\n\n"
            + _counts(report),
            None,
        )
    if report.fatal is not None:
        return Notice(
            f"[dksync] run failed: {str(report.fatal)[:120]}",
            f"dksync stopped: {report.fatal}\n\n{_counts(report)}",
            current,
        )
    listed = report.with_action(Action.REJECT, Action.UNCERTAIN)
    lines = "\n".join(f"- {o.object_type} {o.label}: {o.action.value}: {o.detail}" for o in listed)
    return Notice(
        f"[dksync] {len(listed)} record(s) need attention",
        f"These records were not written to DK+:\n{lines}\n\n{_counts(report)}\n\n"
        "'dksync failures' lists them; 'dksync status' shows the state.",
        current,
    )


def _counts(report: RunReport) -> str:
    """The counts in the words of the tables and the log ("40 read, 39 created")."""
    return "Counts: " + brief(count_words(report.counts()))


def send(settings: EmailConfig, notice: Notice) -> None:
    """Deliver one notice over SMTP (plain, STARTTLS or SSL, with login when configured).
    The mail modules are imported here: most runs send nothing."""
    import smtplib
    import ssl
    from email.message import EmailMessage

    message = EmailMessage()
    message["Subject"], message["From"] = notice.subject, settings.sender
    message["To"] = ", ".join(settings.to)
    message.set_content(notice.body)
    context = ssl.create_default_context()
    smtp: smtplib.SMTP
    if settings.security == "ssl":
        smtp = smtplib.SMTP_SSL(
            settings.host, settings.port, timeout=settings.timeout, context=context
        )
    else:
        smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
    with smtp:
        if settings.security == "starttls":
            smtp.starttls(context=context)
        if settings.user and settings.password is not None:
            smtp.login(settings.user, settings.password.reveal())
        smtp.send_message(message)


def _deliver(settings: EmailConfig, notice: Notice) -> bool:
    """Send, logging a failure (it is tried again after the next run); True when sent."""
    import smtplib

    try:
        send(settings, notice)
    except (OSError, smtplib.SMTPException) as exc:
        log.error(
            "could not send the notification email via %s:%d (%s)",
            settings.host,
            settings.port,
            type(exc).__name__,
        )
        return False
    return True


def after_run(config: Config, report: RunReport) -> Notice | None:
    """Send what ``decide`` says and remember it; a delivery failure is logged and retried
    after the next run (nothing is recorded as sent)."""
    if config.email is None or report.dry_run:
        return None
    try:
        state = State.open(config.state_path)
    except DksyncError as exc:  # the run's own failure may be the state: still say so
        state = None
        log.error("the notification state cannot be read (%s): sending without it", exc)
    if state is None:
        notice = decide(None, report)
        if notice is not None:
            _deliver(config.email, notice)
        return notice
    try:
        notice = decide(state.last_notice(CHANNEL), report)
        if notice is None:
            return None
        if not _deliver(config.email, notice):
            return None
        state.record_notice(CHANNEL, notice.fingerprint)
        log.info("notification sent: %s", notice.subject)
        return notice
    finally:
        state.close()
