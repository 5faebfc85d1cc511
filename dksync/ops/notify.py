"""Notices when a run fails or rejects records, once per distinct problem, and once on
recovery, to every channel: the email and each Apprise URL of ``notify.urls``.

The decision is pure (``decide``): a run's problem has a fingerprint; a notice goes out on
a channel only when the fingerprint differs from the last one that channel was sent, so
the same failure on every cron run sends one message. A run with no problem after a
notified one sends "recovered". ``notify.remind_after`` says the same problem again once
that long has passed since the channel last heard of it. Each channel keeps its own memory,
so one that was down hears of the problem on the next run.
"""

from __future__ import annotations

import hashlib
import logging
import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from functools import partial

from dksync.cli.tables import brief, count_words
from dksync.config import Config, EmailConfig
from dksync.errors import DksyncError
from dksync.ops import channels
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


def decide(previous: str | None, report: RunReport, remind: bool = False) -> Notice | None:
    """The notice to send after ``report``, given the last problem notified (or None);
    ``remind``: the same problem is due to be said again."""
    current = fingerprint(report)
    if current == previous:
        if current is None or not remind:
            return None
        notice = _problem(report, current)
        return Notice(
            notice.subject.replace("[dksync] ", "[dksync] still: ", 1), notice.body, current
        )
    if current is None:
        return Notice(
            "[dksync] recovered: the last run wrote everything",
            "The last dksync run finished without failures or rejected records.\n\n"
            + _counts(report),
            None,
        )
    return _problem(report, current)


def _problem(report: RunReport, current: str) -> Notice:
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
    """Deliver one notice over SMTP (plain, STARTTLS or SSL, with login when configured)."""
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


@dataclass(frozen=True)
class Channel:
    """One place notices go: its key in the state, its name in messages, its delivery."""

    key: str
    label: str
    deliver: Callable[[Notice], None]


def configured(config: Config) -> list[Channel]:
    """The email (when configured) and every ``notify.urls`` entry."""
    found = []
    if config.email is not None:
        via = f"email via {config.email.host}:{config.email.port}"
        found.append(Channel(CHANNEL, via, partial(send, config.email)))
    for position, secret in enumerate(config.notify.urls, 1):
        url = secret.reveal()
        found.append(
            Channel(
                channels.key(url),
                channels.label(position, url),
                partial(_apprise, url),
            )
        )
    return found


def _apprise(url: str, notice: Notice) -> None:
    channels.send(url, notice.subject, notice.body)


def _deliver(channel: Channel, notice: Notice) -> str | None:
    """Send; None when sent, else why not (logged; it is tried again after the next run)."""
    try:
        channel.deliver(notice)
    except (OSError, smtplib.SMTPException, channels.ChannelFailed) as exc:
        reason = str(exc) if isinstance(exc, channels.ChannelFailed) else type(exc).__name__
        to = "" if channel.key == CHANNEL else "to "
        log.error("could not send the notification %s%s (%s)", to, channel.label, reason)
        return reason
    return None


def after_run(config: Config, report: RunReport) -> list[Notice]:
    """Send each channel what ``decide`` says and remember it; a delivery failure is logged
    and retried after the next run (nothing is recorded as sent)."""
    listed = configured(config)
    if not listed or report.dry_run:
        return []
    try:
        state: State | None = State.open(config.state_path)
    except DksyncError as exc:  # the run's own failure may be the state: still say so
        state = None
        log.error("the notification state cannot be read (%s): sending without it", exc)
    try:
        remind = config.notify.remind_after
        sent = [_notify(state, c, report, remind, config.name) for c in listed]
    finally:
        if state is not None:
            state.close()
    return [n for n in sent if n is not None]


def _notify(
    state: State | None,
    channel: Channel,
    report: RunReport,
    remind_after: timedelta | None,
    company: str,
) -> Notice | None:
    """One channel's notice, if due; in a folder of companies its subject names the
    company (``[dksync acme] run failed: ...``)."""
    previous = None if state is None else state.last_notice(channel.key)
    due = False
    if state is not None and remind_after is not None:
        at = state.notice_sent_at(channel.key)
        due = at is not None and datetime.fromisoformat(at) + remind_after <= datetime.now(UTC)
    notice = decide(previous, report, due)
    if notice is not None and company:
        notice = replace(notice, subject=notice.subject.replace("[dksync]", f"[dksync {company}]"))
    if notice is None or _deliver(channel, notice) is not None:
        return None
    if state is not None:
        state.record_notice(channel.key, notice.fingerprint)
    log.info("notification sent to %s: %s", channel.label, notice.subject)
    return notice


TEST = Notice(
    "[dksync] test message",
    "This is a test from 'dksync check --notify': this channel will hear when a run fails "
    "or leaves records that need attention, and when that is over.",
    None,
)


def test_all(config: Config) -> list[tuple[str, str | None]]:
    """A test message to every channel: its name and None when sent, else why not."""
    return [(c.label, _deliver(c, TEST)) for c in configured(config)]
