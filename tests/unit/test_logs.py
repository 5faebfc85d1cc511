"""The log filter scrubs secrets from tracebacks too: a cause's message may echo a token."""

from __future__ import annotations

import io
import logging

from dksync import logs


def test_a_secret_in_a_traceback_is_scrubbed() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(logs.RedactSecrets())
    redact = handler.filters[0]
    assert isinstance(redact, logs.RedactSecrets)
    redact.secrets.add("tok-very-secret")
    logger = logging.getLogger("dksync.test.logs")
    logger.addHandler(handler)
    try:
        try:
            try:
                raise ValueError("the server said: bad token tok-very-secret")
            except ValueError as cause:
                raise RuntimeError("outer") from cause
        except RuntimeError as exc:
            logger.error("failed", exc_info=exc)
    finally:
        logger.removeHandler(handler)
    text = stream.getvalue()
    assert "the server said: bad token ***" in text
    assert "tok-very-secret" not in text
    assert "The above exception was the direct cause" in text
