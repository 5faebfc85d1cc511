"""The sections that tell people about runs: the heartbeat (``monitor``) and the Apprise
channels (``notify``), read by the config reader like every section."""

from __future__ import annotations

import importlib.util
from typing import TYPE_CHECKING

from dksync.config.model import MonitorConfig, NotifyConfig, Secret
from dksync.config.values import unknown_urls, url_flaw

if TYPE_CHECKING:
    from dksync.config.reader import Reader

INSTALL_NOTIFY = "pip install 'dksync[notify]'"


def monitor(reader: Reader) -> MonitorConfig | None:
    url = reader.text("monitor.ping_url")
    if url is None:
        return None
    flaw = url_flaw(url)
    if flaw:
        reader.problems.append(f"monitor.ping_url: must be an http(s) URL ({flaw})")
    return MonitorConfig(
        ping_url=Secret(url.rstrip("/")),
        rejected_is_failure=reader.flag("monitor.rejected_is_failure"),
    )


def notify(reader: Reader) -> NotifyConfig:
    """``notify.urls`` needs Apprise (an optional extra); each URL must be one it knows.
    A URL is never repeated in a message: only its number in the list."""
    urls = reader.value("notify.urls")
    listed = [urls] if isinstance(urls, str) else (urls or [])
    remind = None
    if reader.value("notify.remind_after") is not None:
        remind = reader.duration("notify.remind_after")
    if not isinstance(listed, list) or not all(isinstance(u, str) and u for u in listed):
        reader.problems.append("notify.urls: must list Apprise URLs such as ntfy://topic")
        return NotifyConfig((), remind)
    expanded = [reader.expand("notify.urls", u) or "" for u in listed]
    if expanded and importlib.util.find_spec("apprise") is None:
        reader.problems.append(f"notify.urls: needs Apprise, an optional extra: {INSTALL_NOTIFY}")
    elif expanded:
        reader.problems.extend(
            f"notify.urls: entry {i} is not a URL Apprise knows" for i in unknown_urls(expanded)
        )
    return NotifyConfig(tuple(Secret(u) for u in expanded), remind)
