"""Run one child process under supervision: prefixed output, restart with backoff, clean stop.

The dev stack runs every service as its own process, as in production. A service that
crashes is restarted after a growing pause (0.2 s, 0.4 s, 0.8 s ... capped at 30 s), and the
pause resets once it has stayed up for 10 s: a process that crashed once after running a
while is back at once (issue 20: a restarted consumer consumes again within 5 s), and a crash
loop still does not spin the machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import signal
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from chargegrid.platform.procctl import die_with_parent, signal_group

LineSink = Callable[[str, str], None]


@dataclass
class ManagedProcess:
    """A command kept running until `stop()`; each output line goes to `sink(name, line)`."""

    name: str
    argv: list[str]
    env: dict[str, str]
    sink: LineSink
    #: Awaited after every (re)start, e.g. to wait for readiness or provision topics.
    after_start: Callable[[], Awaitable[None]] | None = None
    first_backoff_s: float = 0.2
    max_backoff_s: float = 30.0
    stable_after_s: float = 10.0
    #: What the child gets if the supervisor dies without stopping it (SIGKILL for a child
    #: that takes long over SIGTERM and loses nothing to SIGKILL, like the object store).
    death_signal: int = signal.SIGTERM
    #: A warm spare's command (chargegrid.platform.spare): it takes over at once when a
    #: process that had been up a while dies. The first starts `spare_after_s` after the
    #: process (not to slow the stack's start), the next `next_spare_after_s` after a takeover.
    spare_argv: list[str] | None = None
    spare_after_s: float = 30.0
    next_spare_after_s: float = 2.0
    restarts: int = field(default=0, init=False)
    _process: asyncio.subprocess.Process | None = field(default=None, init=False, repr=False)
    _spare: asyncio.subprocess.Process | None = field(default=None, init=False, repr=False)
    _pumps: dict[int, asyncio.Task[None]] = field(default_factory=dict, init=False, repr=False)
    _stopping: bool = field(default=False, init=False, repr=False)
    _wake: asyncio.Event = field(default_factory=asyncio.Event, init=False, repr=False)

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    async def _start(self, argv: list[str], *, spare: bool = False) -> asyncio.subprocess.Process:
        process = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.PIPE if spare else None,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            env=self.env,
            start_new_session=True,
            preexec_fn=functools.partial(die_with_parent, self.death_signal),
            limit=1 << 20,
        )
        # Read from the start: a child blocked on a full pipe never gets ready.
        self._pumps[process.pid] = asyncio.create_task(self._pump(process))
        return process

    async def spawn(self) -> None:
        self._process = await self._start(self.argv)

    async def _keep_spare(self, delay_s: float) -> None:
        """A spare, once the process had time to start (the two would share the CPU)."""
        await asyncio.sleep(delay_s)
        if self.spare_argv and self._spare is None and not self._stopping:
            self._spare = await self._start(self.spare_argv, spare=True)

    async def _promote_spare(self) -> bool:
        """Make the waiting spare the process; False if there is none alive."""
        spare, self._spare = self._spare, None
        if spare is None or spare.returncode is not None or spare.stdin is None:
            return False
        try:
            spare.stdin.write(b"go\n")
            await spare.stdin.drain()
        except (BrokenPipeError, ConnectionResetError):
            return False
        self._process = spare
        return True

    async def _pump(self, process: asyncio.subprocess.Process) -> None:
        assert process.stdout is not None
        async for raw in process.stdout:
            self.sink(self.name, raw.decode(errors="replace").rstrip())

    async def _after_start(self) -> None:
        """Readiness or provisioning after a restart; a failure is reported, never the end of
        supervision (a broker that came back slowly must still be restarted next time)."""
        if self.after_start is None:
            return
        try:
            await self.after_start()
        except Exception as exc:
            self.sink(self.name, f"not ready after restart: {exc!r}")

    async def supervise(self) -> None:
        """Keep the process running until stop(); the first spawn must already have happened.

        `after_start` runs beside the wait for the process's exit, so a process that dies
        while starting is restarted at once. A process that had been up `stable_after_s`
        is replaced by the warm spare when there is one, without a pause."""
        backoff = self.first_backoff_s
        respawned = False
        spare_keeper: asyncio.Task[None] | None = None
        while not self._stopping:
            if self._process is None:
                await self.spawn()
                respawned = True
            process = self._process
            assert process is not None
            started = time.monotonic()
            ready = asyncio.create_task(self._after_start()) if respawned else None
            if self.spare_argv and (spare_keeper is None or spare_keeper.done()):
                delay = self.next_spare_after_s if spare_keeper else self.spare_after_s
                spare_keeper = asyncio.create_task(self._keep_spare(delay))
            code = await process.wait()
            if ready is not None and not ready.done():
                ready.cancel()
            pump = self._pumps.pop(process.pid, None)
            if pump is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(pump, 2)
            if self._stopping:
                return
            self._process = None
            self.restarts += 1
            respawned = True
            if time.monotonic() - started > self.stable_after_s:
                backoff = self.first_backoff_s
                if await self._promote_spare():
                    self.sink(self.name, f"exited with code {code}; its warm spare takes over")
                    continue
            self.sink(self.name, f"exited with code {code}; restarting in {backoff:.1f}s")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), backoff)
            backoff = min(backoff * 2, self.max_backoff_s)

    async def stop(self, grace_s: float = 10.0) -> None:
        """SIGTERM the process group, then SIGKILL whatever is left after `grace_s`."""
        self._stopping = True
        self._wake.set()
        spare, self._spare = self._spare, None
        if spare is not None and spare.returncode is None:
            signal_group(spare.pid, signal.SIGKILL)  # it holds nothing: imports only
            await spare.wait()
        process = self._process
        if process is None or process.returncode is not None:
            return
        signal_group(process.pid, signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), grace_s)
        except TimeoutError:
            self.sink(self.name, f"did not stop within {grace_s:.0f}s; killing")
            signal_group(process.pid, signal.SIGKILL)
            await process.wait()
