"""A stop signal that reaches a server worker while it starts is kept until it serves.

Granian forks each worker from its main process, so the worker begins with the main
process's SIGINT and SIGTERM handlers, which only set a flag on the worker's copy of the
main process's state. The worker then builds the app, installs its own handlers, runs the
app's startup and only then serves. A stop signal handled before it serves is lost: the
worker serves on until Granian kills it `HYPEREDU_STOP_TIMEOUT_S` later, and so every stop
of a server that has only just started took that long.

So the worker blocks both signals as soon as it builds its app (`hold`), re-sends itself one
that the inherited handler took before that, and unblocks them once it serves
(`release_when_serving`): the kernel keeps a signal that arrives meanwhile pending, and it
then stops the worker as any stop does, draining and committing what it accepted.
"""

from __future__ import annotations

import asyncio
import os
import signal

STOP_SIGNALS = frozenset({signal.SIGINT, signal.SIGTERM})


def hold() -> None:
    """Block the stop signals in this thread and in the threads it starts from now on (the
    server's own threads among them, so a held signal comes to this one when released)."""
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    if _stopped_before_holding():
        os.kill(os.getpid(), signal.SIGTERM)  # pending until released


def release_when_serving(loop: asyncio.AbstractEventLoop) -> None:
    """Unblock them when `loop` next runs. Call it after the app's startup, with the loop
    stopped: Granian starts serving, then runs the loop until the worker is told to stop."""
    loop.call_soon(signal.pthread_sigmask, signal.SIG_UNBLOCK, STOP_SIGNALS)


def _stopped_before_holding() -> bool:
    """Whether the handler inherited from Granian's main process has taken a stop signal: it
    is a method of the main process's server, whose `interrupt_signal` flag it sets. (Read
    defensively: a Granian that works otherwise only leaves the kill timeout to stop it.)"""
    for number in STOP_SIGNALS:
        server = getattr(signal.getsignal(number), "__self__", None)
        if getattr(server, "interrupt_signal", False) is True:
            return True
    return False
