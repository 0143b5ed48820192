"""What a report build says on stderr while it runs.

* On a terminal: a tqdm bar over the notebooks, named after the one running, with papermill's bar
  over its cells below it; each finished notebook leaves one line above the bars.
* Elsewhere (a pipe, a log file, CI): one plain line per notebook, started when it starts and
  finished with its time when it ends — ``report 2/6 02_recalls_and_calcifications.ipynb ... 34.3 s``.
* Nothing when progress is off.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import IO, Any


def _is_terminal(stream: IO[str]) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # closed or not a real file
        return False


class Progress:
    """Progress of a build over its notebooks (see the module doc).

    Parameters
    ----------
    names : sequence of str
        The notebooks' file names, in the order they run.
    enabled : bool
        False: say nothing.
    stream : file, optional
        Where to write (default ``sys.stderr``); a bar only when it is a terminal.
    """

    def __init__(self, names: Sequence[str], enabled: bool, stream: IO[str] | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.mode = "off" if not enabled else "bar" if _is_terminal(self.stream) else "lines"
        self.total, self.done_count = len(names), 0
        self._line_open = False  # "lines": a notebook's line is started, its time not yet written
        self.bar: Any = None
        if self.mode == "bar":
            from tqdm import tqdm

            self.bar = tqdm(
                total=self.total, desc="report", unit="notebook", file=self.stream, position=0, dynamic_ncols=True
            )

    @property
    def cell_bar(self) -> bool:
        """Whether papermill should draw its bar over the cells (only under the notebook bar)."""
        return self.mode == "bar"

    def _label(self, name: str) -> str:
        width = len(str(self.total))
        return f"report {self.done_count + 1:>{width}}/{self.total} {name}"

    def start(self, name: str) -> None:
        """Notebook ``name`` starts."""
        if self.mode == "bar":
            self.bar.set_description_str(f"report: {name}", refresh=True)
        elif self.mode == "lines":
            self.stream.write(f"{self._label(name)} ... ")
            self.stream.flush()
            self._line_open = True

    def finish(self, name: str, seconds: float, failed: bool = False) -> None:
        """Notebook ``name`` ended after ``seconds`` (``failed``: with an error)."""
        outcome = f"failed after {seconds:.1f} s" if failed else f"{seconds:.1f} s"
        if self.mode == "bar":
            self.bar.write(f"{self._label(name)} {outcome}", file=self.stream)
            self.bar.update(1)
        elif self.mode == "lines":
            self.stream.write(f"{outcome}\n")
            self.stream.flush()
            self._line_open = False
        self.done_count += 1

    def close(self) -> None:
        """Remove the bar; end a plain line left open by an interruption."""
        if self._line_open:
            self.stream.write("interrupted\n")
            self.stream.flush()
            self._line_open = False
        if self.bar is not None:
            self.bar.close()
            self.bar = None
