"""Alert channels through Apprise (an optional extra: ``pip install 'dksync[notify]'``).

An Apprise URL holds the channel's token (Slack, Teams workflows, ntfy, PagerDuty...), so
it is never shown: a channel is named by its place in ``notify.urls`` and its scheme, and
its memory in the state is keyed by a hash of the URL. Apprise's own log is silenced, as
it may print a URL; dksync logs one line per failed delivery instead.
"""

from __future__ import annotations

import hashlib
import logging
from urllib.parse import urlsplit


class ChannelFailed(Exception):
    """A channel did not take the message (the reason holds no URL)."""


def key(url: str) -> str:
    """The channel's name in the state: stable for one URL, and not the URL."""
    return "apprise:" + hashlib.sha256(url.encode("utf-8")).hexdigest()[:16]


def label(position: int, url: str) -> str:
    """How messages name the channel: ``notify.urls #2 (ntfy)``."""
    scheme = urlsplit(url).scheme or "?"
    return f"notify.urls #{position} ({scheme})"


def send(url: str, title: str, body: str) -> None:
    """Deliver one message through Apprise; ``ChannelFailed`` when it did not go out."""
    import apprise

    logging.getLogger("apprise").setLevel(logging.CRITICAL)
    sender = apprise.Apprise()
    if not sender.add(url):
        raise ChannelFailed("Apprise does not know this URL")
    if not sender.notify(title=title, body=body):
        raise ChannelFailed("the service did not accept the message")
