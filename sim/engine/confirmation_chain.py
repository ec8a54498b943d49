"""The confirmation chain (the paper's Table 3): in-app on the confirmation page while the
customer is still there; otherwise an e-mail, confirmed only by its delivery receipt;
without a receipt in time, an SMS (retried with backoff by its policy); when all fail, the
order is flagged for customer-service follow-up."""

from __future__ import annotations

from collections.abc import Generator, Iterator
from typing import Any

import simpy

from sim.config.model import NotificationStage
from sim.engine.calls import GuardedDependency
from sim.engine.clock import Step
from sim.engine.orders import NO_CHANNEL
from sim.resilience.outcomes import SUCCESS

IN_APP, EMAIL, SMS = 0, 1, 2
ROLES = ("in_app", "email", "sms")
NONE = NO_CHANNEL  # no channel confirmed: customer-service follow-up


class ConfirmationChain:
    """Sends confirmations; counts every message sent."""

    def __init__(
        self,
        env: simpy.Environment,
        channels: list[GuardedDependency],
        spec: NotificationStage,
        fallback_chain: bool,
        draws: Iterator[float],
        receipt_delays: Iterator[float],
    ) -> None:
        self.env = env
        self.in_app_channel, self.email_channel, self.sms_channel = channels
        self.spec = spec
        self.fallback_chain = fallback_chain
        self._draws = draws
        self._receipts = receipt_delays

    def in_app(self, deadline: float) -> Generator[Step, Any, tuple[bool, int]]:
        """(confirmed, messages sent) on the confirmation page; needs the session open."""
        if self.env.now >= deadline:
            return False, 0
        outcome = yield from self.in_app_channel.call(deadline)
        if outcome != SUCCESS:
            return False, 0
        return next(self._draws) < self.spec.acknowledged, 1

    def after_checkout(self) -> Generator[Step, Any, tuple[int, int]]:
        """(channel that confirmed or NONE, messages sent) once in-app has not."""
        spec = self.spec
        sent = 0
        outcome = yield from self.email_channel.call()
        if outcome == SUCCESS:
            sent += 1
            delay = next(self._receipts)
            delivered = next(self._draws) >= spec.receipt_loss
            if delivered and delay <= spec.receipt_timeout:
                yield float(delay)
                return EMAIL, sent
            yield float(spec.receipt_timeout)  # waited for a receipt in vain
        if not self.fallback_chain:
            return NONE, sent
        outcome = yield from self.sms_channel.call()
        if outcome == SUCCESS:
            return SMS, sent + 1
        return NONE, sent
