"""The per-app rollout lock: a `coordination.k8s.io/v1` Lease with holder, renewal and expiry.

`floodgate-lock-<app>` names its holder (`holderIdentity`: the caller's description plus a
random token) and when it last renewed. A holder renews every `duration / 3` from a daemon
thread; a holder that dies (SIGKILL, lost machine) stops renewing, and once `renewTime +
leaseDurationSeconds` has passed anyone may take the Lease over (`leaseTransitions` counts
takeovers). Acquiring and renewing are compare-and-swap (create-if-absent, replace with
resourceVersion), so two orchestrators can never both hold it.

Duration: `lease_duration_seconds` of the target (default 30 s): a killed orchestrator blocks
the next run of the app for at most that long. Expiry compares the holder's `renewTime` with
the reader's clock, so clocks must agree to well within the duration (NTP does).

A holder whose renewals fail for longer than the duration, or that finds someone else in the
Lease, has *lost* it: `lost` turns true and the target refuses to save rollout records for that
app from then on, so a stale orchestrator cannot overwrite its successor's progress.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from blocks.errors import AppLocked, TargetError
from blocks.kubernetes import names
from blocks.kubernetes.api import Conflict, KubeApi
from blocks.kubernetes.kinds import LEASE

JSON = dict[str, Any]
log = logging.getLogger("floodgate.kubernetes.lease")


def _now() -> datetime:
    return datetime.now(UTC)


def _micro_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def expires_at(lease: JSON) -> datetime | None:
    """When the current holder's claim runs out; None if nobody holds the Lease."""
    spec = lease.get("spec") or {}
    if not spec.get("holderIdentity"):
        return None
    renewed = _parse_time(spec.get("renewTime")) or _parse_time(spec.get("acquireTime"))
    if renewed is None:
        return None
    return renewed + timedelta(seconds=int(spec.get("leaseDurationSeconds") or 0))


class LeaseLock:
    """One acquisition of an app's Lease; `release()` or the holder's death ends it."""

    def __init__(self, api: KubeApi, app: str, holder: str, duration_seconds: int) -> None:
        if duration_seconds < 1:
            raise TargetError(f"lease duration must be at least 1 s, got {duration_seconds}")
        self._api = api
        self.app = app
        self.name = names.lease_name(app)
        self.identity = f"{holder} [{uuid.uuid4().hex[:8]}]"
        self.duration = duration_seconds
        self.lost = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_renewal = time.monotonic()

    # Acquire -----------------------------------------------------------------------------------

    def acquire(self) -> None:
        now = _now()
        current = self._api.get(LEASE, self.name)
        try:
            if current is None:
                self._api.create(self._manifest(now, transitions=0))
            else:
                until = expires_at(current)
                if until is not None and until > now:
                    raise AppLocked(self._describe_holder(current, now, until))
                spec = current.get("spec") or {}
                body = self._manifest(now, transitions=int(spec.get("leaseTransitions") or 0) + 1)
                body["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
                self._api.replace(body)
        except Conflict:
            raise AppLocked(f"{self.app} is locked: another orchestrator took the Lease "
                            f"{self.name} at the same moment") from None
        self._last_renewal = time.monotonic()
        self._thread = threading.Thread(
            target=self._renew_loop, name=f"lease-{self.app}", daemon=True
        )
        self._thread.start()

    def _describe_holder(self, lease: JSON, now: datetime, until: datetime) -> str:
        holder = lease["spec"]["holderIdentity"]
        left = (until - now).total_seconds()
        return (f"{self.app} is locked by {holder} (Lease {self._api.namespace}/{self.name}; "
                f"it expires in {left:.1f} s unless its holder renews it)")

    def _manifest(self, now: datetime, transitions: int) -> JSON:
        stamp = _micro_time(now)
        return {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {"name": self.name, "labels": names.part_labels(self.app, "lock")},
            "spec": {
                "holderIdentity": self.identity,
                "leaseDurationSeconds": self.duration,
                "acquireTime": stamp,
                "renewTime": stamp,
                "leaseTransitions": transitions,
            },
        }

    # Renew -------------------------------------------------------------------------------------

    def _renew_loop(self) -> None:
        interval = self.duration / 3
        while not self._stop.wait(interval):
            try:
                self.renew()
            except TargetError as exc:
                log.warning("renewing Lease %s failed: %s", self.name, exc)
            if not self.lost and time.monotonic() - self._last_renewal > self.duration:
                log.error("Lease %s not renewed for %d s: lost", self.name, self.duration)
                self.lost = True
            if self.lost:
                return

    def renew(self) -> None:
        """Push renewTime forward, if the Lease is still ours (else mark it lost)."""
        current = self._api.get(LEASE, self.name)
        if current is None or (current.get("spec") or {}).get("holderIdentity") != self.identity:
            log.error("Lease %s was taken over; this orchestrator no longer holds %s",
                      self.name, self.app)
            self.lost = True
            return
        current["spec"]["renewTime"] = _micro_time(_now())
        try:
            self._api.replace(current)
        except Conflict:
            return  # changed meanwhile: the next round reads it again
        self._last_renewal = time.monotonic()

    # Release -----------------------------------------------------------------------------------

    def release(self) -> None:
        """Stop renewing and clear the holder so the next orchestrator need not wait."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self.lost:
            return
        try:
            current = self._api.get(LEASE, self.name)
            spec = (current or {}).get("spec") or {}
            if current is not None and spec.get("holderIdentity") == self.identity:
                spec.pop("holderIdentity", None)
                self._api.replace(current)
        except TargetError as exc:  # it expires on its own; say so and move on
            log.warning("releasing Lease %s failed (it expires in %d s): %s",
                        self.name, self.duration, exc)
