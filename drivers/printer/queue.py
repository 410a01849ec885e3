"""The print queue: a sale never waits for paper.

The sale is committed first; its receipt is then handed to this queue, which
returns a job id at once and prints on its own thread. Before each job it asks
the printer for its status, so an open cover, an empty roll or a printer that is
off is reported as exactly that, and the job waits and retries by itself; after
the last retry it is left FAILED with the reason, for the cashier to retry or
reprint. Jobs print in the order they came: one printer, one roll.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Protocol

from drivers.printer.status import PaperOut, PrinterError, PrinterStatus
from pos.clock import Clock

log = logging.getLogger(__name__)

DEFAULT_RETRY_DELAYS = (2.0, 5.0, 10.0, 20.0, 30.0)


class Device(Protocol):
    """What the queue needs from a printer session (PrinterConnection)."""

    @property
    def can_report_status(self) -> bool: ...

    def status(self) -> PrinterStatus: ...

    def send(self, data: bytes) -> None: ...

    def close(self) -> None: ...


class JobState(StrEnum):
    QUEUED = "queued"
    PRINTING = "printing"
    WAITING = "waiting"  # the printer has a problem; the job retries by itself
    DONE = "done"
    FAILED = "failed"  # retries used up: the cashier retries or reprints
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class JobView:
    id: str
    kind: str  # receipt | reprint | drawer | test | report
    title: str
    state: JobState
    attempts: int
    error_code: str = ""
    error: str = ""  # what went wrong, in English
    error_zh: str = ""
    remedy: str = ""


@dataclass
class _Job:
    view: JobView
    data: bytes
    needs_paper: bool
    due: float = 0.0


class PrintQueue:
    def __init__(
        self,
        connect: Callable[[], Device],
        clock: Clock,
        retry_delays: Sequence[float] = DEFAULT_RETRY_DELAYS,
        on_change: Callable[[JobView], None] | None = None,
    ) -> None:
        self._connect = connect
        self._clock = clock
        self._delays = tuple(retry_delays)
        self._on_change = on_change
        self._jobs: dict[str, _Job] = {}
        self._order: list[str] = []
        self._ids = itertools.count(1)
        self._cond = threading.Condition()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._device: Device | None = None
        self._last_status: PrinterStatus | None = None

    # -- lifecycle -------------------------------------------------------------------
    def start(self) -> PrintQueue:
        with self._cond:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="print-queue", daemon=True)
                self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    # -- what callers use ------------------------------------------------------------
    def submit(self, kind: str, title: str, data: bytes, needs_paper: bool = True) -> str:
        """Queue a printout and return its id at once."""
        with self._cond:
            job_id = f"P{next(self._ids)}"
            view = JobView(job_id, kind, title, JobState.QUEUED, 0)
            self._jobs[job_id] = _Job(view, data, needs_paper)
            self._order.append(job_id)
            self._cond.notify_all()
        self._changed(view)
        return job_id

    def job(self, job_id: str) -> JobView:
        with self._cond:
            return self._jobs[job_id].view

    def jobs(self) -> list[JobView]:
        with self._cond:
            return [self._jobs[i].view for i in self._order]

    def last_status(self) -> PrinterStatus | None:
        with self._cond:
            return self._last_status

    def retry(self, job_id: str) -> None:
        """Print a failed or waiting job again now."""
        with self._cond:
            job = self._jobs[job_id]
            if job.view.state not in (JobState.FAILED, JobState.WAITING):
                return
            if job.view.state is JobState.FAILED:
                self._order.remove(job_id)
                self._order.append(job_id)
            job.view = replace(job.view, state=JobState.QUEUED, attempts=0)
            job.due = 0.0
            self._cond.notify_all()
            view = job.view
        self._changed(view)

    def cancel(self, job_id: str) -> None:
        with self._cond:
            job = self._jobs[job_id]
            if job.view.state in (JobState.DONE, JobState.PRINTING, JobState.CANCELLED):
                return
            job.view = replace(job.view, state=JobState.CANCELLED)
            view = job.view
        self._changed(view)

    def wait(self, job_id: str, timeout: float) -> JobView:
        """Block until the job is done, failed or cancelled, or `timeout` passes
        (for the command line and tests; a sale never calls this)."""
        final = (JobState.DONE, JobState.FAILED, JobState.CANCELLED)
        with self._cond:
            self._cond.wait_for(lambda: self._jobs[job_id].view.state in final, timeout)
            return self._jobs[job_id].view

    def wake(self) -> None:
        """Look at waiting jobs now (after the clock moved, or the printer was fixed)."""
        with self._cond:
            self._cond.notify_all()

    # -- the printer thread ----------------------------------------------------------
    def _changed(self, view: JobView) -> None:
        if self._on_change is not None:
            try:
                self._on_change(view)
            except Exception:
                log.exception("print job listener failed")

    def _next(self) -> _Job | None:
        """The head of the line once it is due; None when stopping."""
        with self._cond:
            while not self._stopping:
                live = [
                    self._jobs[i]
                    for i in self._order
                    if self._jobs[i].view.state in (JobState.QUEUED, JobState.WAITING)
                ]
                if live:
                    head = live[0]
                    wait = head.due - self._clock.monotonic()
                    if wait <= 0:
                        head.view = replace(
                            head.view, state=JobState.PRINTING, attempts=head.view.attempts + 1
                        )
                        return head
                    self._cond.wait(min(wait, 0.5))
                else:
                    self._cond.wait()
            return None

    def _run(self) -> None:
        while (job := self._next()) is not None:
            self._changed(job.view)
            try:
                self._print(job)
            except PrinterError as exc:
                self._failed(job, exc)
            else:
                with self._cond:
                    job.view = replace(job.view, state=JobState.DONE, error_code="", error="")
                    job.data = b""
                    self._cond.notify_all()
                self._changed(job.view)
        if self._device is not None:
            self._device.close()

    def _print(self, job: _Job) -> None:
        if self._device is None:
            self._device = self._connect()
        dev = self._device
        try:
            if dev.can_report_status:
                self._check(dev.status(), job)
            dev.send(job.data)
            if dev.can_report_status:
                # The printer answers in order, so this answer also says it took the job.
                after = dev.status()
                if after.paper_out and job.needs_paper:
                    raise PaperOut(
                        "the paper ran out while printing",
                        "Load a new paper roll; the whole receipt prints again by itself.",
                        "打印中纸张用完，请装入新纸卷，小票会自动重新打印。",
                    )
                self._check(after, job)
        except PrinterError:
            dev.close()
            self._device = None
            raise

    def _check(self, status: PrinterStatus, job: _Job) -> None:
        with self._cond:
            self._last_status = status
        problem = status.problem()
        if problem is None:
            return
        if not job.needs_paper and status.online and not status.error:
            return  # the drawer opens whatever the paper and cover are doing
        raise problem

    def _failed(self, job: _Job, exc: PrinterError) -> None:
        with self._cond:
            attempt = job.view.attempts
            give_up = attempt > len(self._delays)
            state = JobState.FAILED if give_up else JobState.WAITING
            if not give_up:
                job.due = self._clock.monotonic() + self._delays[attempt - 1]
            job.view = replace(
                job.view,
                state=state,
                error_code=exc.code,
                error=exc.message,
                error_zh=exc.zh,
                remedy=exc.remedy,
            )
            self._cond.notify_all()
            view = job.view
        log.warning("print job %s %s: %s", view.id, view.state, exc.message)
        self._changed(view)
