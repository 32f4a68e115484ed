"""Steering a running engine: a ZeroMQ DEALER client of its command socket.

The engine binds a ROUTER (``[bus].control``, ``tcp://127.0.0.1:5556`` by default). A client sends one frame
holding a ``ferrotrade.v1.Command`` (the run's token, a request id, one command) and receives one frame
holding a ``ferrotrade.v1.Reply`` with the same request id. :class:`Controller` wraps that exchange in one
method per command and turns a refusal (``ok = false``) or silence into a :class:`ControlError`.

Invariants
----------
* The token never leaves this object except inside the ``Command`` frame: it is not in ``repr``, in error
  messages, or in logs.
* Replies are matched by request id: a late reply to an earlier, timed-out request is discarded, never
  taken for the answer to the current one.
* One request at a time per :class:`Controller` (it is not thread-safe; use one per thread).

Examples
--------
>>> controller = Controller("tcp://127.0.0.1:5556", token="0123456789abcdef-secret")
>>> "secret" in repr(controller)
False
>>> controller.close()
"""

from __future__ import annotations

import itertools
import time
from types import TracebackType
from typing import Final

import zmq
from google.protobuf.message import DecodeError

from ferrotrade.exceptions import FerrotradeError
from ferrotrade.v1 import control_pb2

__all__ = ["DEFAULT_CONTROL", "DEFAULT_TOKEN_ENV", "ControlError", "Controller"]

DEFAULT_CONTROL: Final = "tcp://127.0.0.1:5556"
"""The engine's default command endpoint (``[bus].control``)."""

DEFAULT_TOKEN_ENV: Final = "FERROTRADE_CONTROL_TOKEN"
"""The environment variable the engine (and ``ferrotrade ctl``) read the control token from."""

# How long a kill reply may take beyond the kill's own timeout (the engine answers at its deadline).
_KILL_GRACE_S: Final = 3.0


class ControlError(FerrotradeError):
    """A command the engine refused (``ok = false``) or did not answer in time.

    Attributes
    ----------
    command : str
        The command (``"kill"``, ``"set"``, ...).
    reason : str
        The engine's error (``"unauthorized"``, ``"unknown strategy ..."``) or ``"timeout"``.
    endpoint : str
        The command endpoint.
    """

    def __init__(self, command: str, reason: str, endpoint: str) -> None:
        super().__init__(f"{command} on {endpoint}: {reason}")
        self.command = command
        self.reason = reason
        self.endpoint = endpoint


class Controller:
    """A client of an engine's command socket.

    Parameters
    ----------
    endpoint : str
        The engine's ``[bus].control`` endpoint.
    token : str
        The run's control token (``FERROTRADE_CONTROL_TOKEN``); kept private.
    timeout_s : float
        How long to wait for a reply (a kill waits its own timeout plus a grace).
    context : zmq.Context, optional
        The ZeroMQ context (the process-wide instance by default).

    Raises
    ------
    ControlError
        From every command method, when the engine refused the command or did not answer in time.
    """

    def __init__(
        self,
        endpoint: str = DEFAULT_CONTROL,
        token: str = "",
        timeout_s: float = 5.0,
        *,
        context: zmq.Context[zmq.Socket[bytes]] | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.timeout_s = timeout_s
        self.__token = token
        self._ids = itertools.count(1)
        self._socket: zmq.Socket[bytes] = (context or zmq.Context.instance()).socket(zmq.DEALER)
        self._socket.setsockopt(zmq.LINGER, 0)
        self._socket.connect(endpoint)

    def __repr__(self) -> str:
        return f"Controller({self.endpoint!r}, timeout_s={self.timeout_s})"

    def request(self, command: control_pb2.Command, *, timeout_s: float | None = None) -> control_pb2.Reply:
        """Send ``command`` (its token and request id are set here) and return the engine's reply as is.

        Raises
        ------
        ControlError
            Only when no reply arrived within ``timeout_s`` (default: the controller's); a reply with
            ``ok = false`` is returned, not raised.
        """
        name = command.WhichOneof("command") or "empty"
        command.token = self.__token
        command.request_id = next(self._ids)
        payload = command.SerializeToString()
        command.token = ""  # the caller's object does not keep the token
        self._socket.send(payload)
        wait_s = self.timeout_s if timeout_s is None else timeout_s
        deadline = time.monotonic() + wait_s
        while True:
            left_ms = int((deadline - time.monotonic()) * 1000)
            if left_ms <= 0 or not self._socket.poll(left_ms):
                raise ControlError(
                    name.replace("_", "-"), f"timeout: no reply within {wait_s:g} s", self.endpoint
                )
            frames = self._socket.recv_multipart()
            try:
                reply: control_pb2.Reply = control_pb2.Reply.FromString(frames[-1])
            except DecodeError:
                continue
            if reply.request_id == command.request_id:
                return reply

    def _checked(self, command: control_pb2.Command, timeout_s: float | None = None) -> control_pb2.Reply:
        reply = self.request(command, timeout_s=timeout_s)
        if not reply.ok:
            name = (command.WhichOneof("command") or "empty").replace("_", "-")
            raise ControlError(name, reply.error or "refused", self.endpoint)
        return reply

    def status(self) -> control_pb2.EngineStatus:
        """Return the engine's status (session, mode, trading state, counters, unsynced books)."""
        return self._checked(control_pb2.Command(status=control_pb2.StatusCommand())).status

    def halt(self) -> control_pb2.EngineStatus:
        """Set the trading state to HALTED (new orders refused; working orders stay); the status after."""
        return self._checked(control_pb2.Command(halt=control_pb2.HaltCommand())).status

    def resume(self) -> control_pb2.EngineStatus:
        """Set the trading state back to ACTIVE; the status after."""
        return self._checked(control_pb2.Command(resume=control_pb2.ResumeCommand())).status

    def reduce_only(self) -> control_pb2.EngineStatus:
        """Set the trading state to REDUCING (only position-reducing orders pass); the status after."""
        return self._checked(control_pb2.Command(reduce_only=control_pb2.ReduceOnlyCommand())).status

    def kill(self, timeout_ms: int = 5000) -> control_pb2.KillReport:
        """Cancel every open order, flatten every position, then HALTED; the engine's report.

        The engine answers once the venue confirmed everything, or at ``timeout_ms`` with what is still
        open (``open_orders``, ``open_positions``): check them, a kill that timed out is not an error here.
        """
        command = control_pb2.Command(kill=control_pb2.KillCommand(timeout_ms=timeout_ms))
        wait_s = max(self.timeout_s, timeout_ms / 1000 + _KILL_GRACE_S)
        return self._checked(command, timeout_s=wait_s).kill

    def set(self, strategy: str, parameter: str, value: str) -> None:
        """Change a strategy parameter at run time; ``value`` is parsed by the strategy as TOML would.

        Raises
        ------
        ControlError
            With the engine's message for an unknown strategy or parameter, or a value it cannot take.
        """
        command = control_pb2.Command(
            set=control_pb2.SetCommand(strategy=strategy, parameter=parameter, value=value)
        )
        self._checked(command)

    def snapshot(self, depth: int = 10) -> control_pb2.EngineSnapshot:
        """Return the books (top ``depth`` levels), positions, working orders and PnL now."""
        command = control_pb2.Command(snapshot=control_pb2.SnapshotCommand(depth=depth))
        return self._checked(command).snapshot

    def close(self) -> None:
        """Close the socket (idempotent)."""
        self._socket.close(linger=0)

    def __enter__(self) -> Controller:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
