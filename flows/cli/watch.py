"""Live progress of a rollout in the terminal, read from the record the target keeps.

Reading the record (instead of hooking into the flow) means the same view works for a rollout
this process drives, one a Prefect worker drives, and `floodgate status --watch`.
"""

from __future__ import annotations

import sys
import threading
import time

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from blocks.target import Target
from flows.model import Phase, Rollout
from flows.progress_view import describe_weights, percent_done

# Not a terminal (CI logs, pipes): wide enough that tables keep their reasons readable.
console = Console(highlight=False, width=None if sys.stdout.isatty() else 140)

_COLOURS = {
    Phase.SUCCEEDED: "bold green",
    Phase.ROLLED_BACK: "bold yellow",
    Phase.FAILED: "bold red",
    Phase.ROLLING_BACK: "yellow",
}


def transition_line(rollout: Rollout, index: int) -> str:
    t = rollout.transitions[index]
    colour = _COLOURS.get(t.to_phase, "cyan")
    return f"{t.at:%H:%M:%S}  [{colour}]{t.to_phase.value:<11}[/] {t.reason}"


class RolloutWatcher:
    """Polls the app's record and prints each new transition under a progress bar."""

    def __init__(self, target: Target, app: str, replicas: int, interval: float = 0.2) -> None:
        self.target, self.app, self.replicas, self.interval = target, app, replicas, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rollout-watcher", daemon=True)
        self.rollout_id: str | None = None
        self.last: Rollout | None = None

    def __enter__(self) -> RolloutWatcher:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def follow(self, rollout_id: str | None) -> None:
        self.rollout_id = rollout_id

    def _read(self) -> Rollout | None:
        raw = self.target.load_record(self.app)
        if raw is None:
            return None
        rollout = Rollout.model_validate(raw)
        if self.rollout_id is None and not rollout.terminal:
            self.rollout_id = rollout.id
        return rollout if rollout.id == self.rollout_id else None

    def _run(self) -> None:
        shown = 0
        with Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            TextColumn("{task.percentage:>3.0f}%"),
            TextColumn("{task.fields[weights]}"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        ) as bar:
            task = bar.add_task(self.app, total=100, weights="")
            while True:
                stopping = self._stop.is_set()
                try:
                    rollout = self._read()
                except Exception:  # a half-written file or a flaky API: try again next poll
                    rollout = None
                if rollout is not None:
                    self.last = rollout
                    for index in range(shown, len(rollout.transitions)):
                        bar.console.print(transition_line(rollout, index))
                    shown = len(rollout.transitions)
                    bar.update(
                        task,
                        completed=percent_done(rollout, self.replicas),
                        description=f"{self.app} {rollout.phase.value}",
                        weights=describe_weights(rollout.weights),
                    )
                if stopping or (rollout is not None and rollout.terminal):
                    return
                time.sleep(self.interval)
