"""``@require_approval``: put a person's decision in front of any function an agent calls as a tool.

    @require_approval(processa, title="Send email to {to}", timeout=1800)
    def send_email(to: str, subject: str, body: str) -> str:
        ...

    result = send_email(to="user@example.com", subject="Hi", body="...", tool_call_id=call.id)

Each call becomes a draft (``content`` = the function's name and its arguments by name) and waits
for the decision:

- approved: the function runs with the approved arguments (a reviewer's edit wins), checked again
  against its signature and simple type hints; an edit that no longer fits raises
  ApprovedArgumentsInvalidError naming the fields, and the function does not run;
- rejected, expired, or no decision within ``timeout`` seconds: the function does not run and the
  call returns an ApprovalOutcome dict whose ``message`` tells the model what happened (with the
  reviewer's reason), so it can change course.

``tool_call_id`` (a keyword the wrapper takes, unless the function has a parameter of that name)
is your framework's id for the call: it becomes the draft's Idempotency-Key, so a retried call
finds the same draft and its decision instead of asking again. Coroutine functions are supported
(the wait runs in a thread). Standard library only, like the rest of the package.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import json
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any, Literal, NotRequired, TypedDict, TypeVar, cast

from .client import MetadataValue, ProcessaClient
from .errors import DecisionTimeoutError

__all__ = ["require_approval", "ApprovalOutcome", "ApprovedArgumentsInvalidError", "is_approval_outcome"]

DEFAULT_TIMEOUT_SECONDS = 600.0


class ApprovalOutcome(TypedDict):
    """What a call returns instead of the function's result when the function did not run."""

    ran: Literal[False]
    approval: Literal["rejected", "expired", "timed_out"]
    draftId: str
    reason: NotRequired[str | None]
    message: str


class ApprovedArgumentsInvalidError(ValueError):
    """The approved (edited) arguments do not fit the function; it did not run. ``fields`` names each problem."""

    def __init__(self, tool: str, fields: list[dict[str, str]], draft_id: str) -> None:
        self.tool = tool
        self.fields = fields
        self.draft_id = draft_id
        problems = "; ".join(f"{f['field']}: {f['message']}" for f in fields)
        super().__init__(f"The arguments a reviewer approved for {tool} do not fit the function, so it did not run: {problems}")


def is_approval_outcome(value: object) -> bool:
    """Whether a call's result is an ApprovalOutcome (the function did not run)."""
    return (
        isinstance(value, Mapping)
        and value.get("ran") is False
        and value.get("approval") in ("rejected", "expired", "timed_out")
        and isinstance(value.get("message"), str)
    )


F = TypeVar("F", bound=Callable[..., Any])


def require_approval(
    client: ProcessaClient,
    *,
    title: str | Callable[[dict[str, Any]], str] | None = None,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
    name: str | None = None,
    agent: str | None = None,
    run_id: str | None = None,
    metadata: Mapping[str, MetadataValue] | None = None,
    poll_interval: float = 1.0,
    max_poll_interval: float = 10.0,
) -> Callable[[F], F]:
    """Decorator: the function runs only once a person approves the call (see the module's docstring).

    ``title`` is a template where ``{field}`` is that argument's value and ``{tool}`` the function's
    name (default ``"Run {tool}"``), or a function of the arguments dict. ``timeout`` is in seconds.
    ``agent`` and ``run_id`` go into the draft's metadata with the tool's name and the call id.
    """
    if not isinstance(client, ProcessaClient):
        raise TypeError("require_approval: client must be a ProcessaClient")
    if title is not None and not isinstance(title, str) and not callable(title):
        raise TypeError("require_approval: title must be a string template or a function")
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout >= 0:
        raise ValueError("require_approval: timeout must be a number of seconds >= 0")
    for field, value in (("name", name), ("agent", agent), ("run_id", run_id)):
        if value is not None and not isinstance(value, str):
            raise TypeError(f"require_approval: {field} must be a string")

    def decorate(func: F) -> F:
        tool = name or func.__name__
        signature = inspect.signature(func)
        takes_call_id = "tool_call_id" in signature.parameters
        hints = _type_hints(func)

        def ask(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[dict[str, Any] | None, ApprovalOutcome | None]:
            call_id = kwargs.get("tool_call_id") if takes_call_id else kwargs.pop("tool_call_id", None)
            bound = signature.bind(*args, **kwargs)  # a wrong call fails here, before anyone is asked
            bound.apply_defaults()
            arguments = {k: v for k, v in bound.arguments.items() if k != "tool_call_id" or not takes_call_id}
            _check_json(tool, arguments)
            draft_metadata: dict[str, MetadataValue] = {**(metadata or {}), "tool": tool}
            if agent is not None:
                draft_metadata["agent"] = agent
            if run_id is not None:
                draft_metadata["runId"] = run_id
            if call_id:
                draft_metadata["toolCallId"] = str(call_id)
            draft = client.create(
                _title(title, tool, arguments),
                {"tool": tool, "arguments": arguments},
                metadata=draft_metadata,
                idempotency_key=f"tool-call:{tool}:{call_id}" if call_id else None,
            )
            try:
                decided = client.wait_for_decision(draft["id"], timeout, poll_interval=poll_interval, max_poll_interval=max_poll_interval)
            except DecisionTimeoutError:
                return None, {
                    "ran": False,
                    "approval": "timed_out",
                    "draftId": draft["id"],
                    "message": f"No one decided on this {tool} call within {timeout:g} s, so the tool did not run. "
                    f"The request is still waiting for review (draft {draft['id']}); do not assume it happened.",
                }
            if decided["status"] == "approved":
                approved = decided["content"].get("arguments")
                problems = _problems(signature, hints, approved)
                if problems:
                    raise ApprovedArgumentsInvalidError(tool, problems, decided["id"])
                approved = dict(cast(dict[str, Any], approved))
                if takes_call_id:
                    approved["tool_call_id"] = call_id
                return approved, None
            if decided["status"] == "rejected":
                reason = decided.get("rejectionReason")
                return None, {
                    "ran": False,
                    "approval": "rejected",
                    "draftId": decided["id"],
                    "reason": reason,
                    "message": f"A person rejected this {tool} call, so the tool did not run. "
                    + (f"Their reason: {reason}" if reason else "They gave no reason.")
                    + " Change course accordingly; do not repeat the same call.",
                }
            return None, {
                "ran": False,
                "approval": "expired",
                "draftId": decided["id"],
                "message": f"This {tool} call's approval request expired before anyone decided, so the tool did not run.",
            }

        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                approved, outcome = await asyncio.to_thread(ask, args, kwargs)
                return outcome if approved is None else await func(**approved)

            return cast(F, async_wrapper)

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            approved, outcome = ask(args, kwargs)
            return outcome if approved is None else func(**approved)

        return cast(F, wrapper)

    return decorate


def _title(template: str | Callable[[dict[str, Any]], str] | None, tool: str, arguments: dict[str, Any]) -> str:
    if callable(template):
        text = str(template(dict(arguments)))
    else:

        class Fields(dict[str, Any]):
            def __missing__(self, key: str) -> str:
                return "{" + key + "}"

        values = Fields({k: v if isinstance(v, (str, int, float, bool)) or v is None else json.dumps(v) for k, v in arguments.items()})
        values["tool"] = tool
        try:
            text = (template or "Run {tool}").format_map(values)
        except (ValueError, IndexError, AttributeError, KeyError):
            text = template or f"Run {tool}"
    text = text.strip() or f"Run {tool}"
    return text if len(text) <= 200 else text[:199] + "…"


def _check_json(tool: str, arguments: dict[str, Any]) -> None:
    for key, value in arguments.items():
        try:
            json.dumps(value)
        except (TypeError, ValueError) as error:
            raise TypeError(f"{tool}: argument {key} cannot be sent for review as JSON ({error})") from None


def _type_hints(func: Callable[..., Any]) -> dict[str, Any]:
    try:
        return typing.get_type_hints(func)
    except Exception:  # hints that cannot be resolved are not checked
        return {}


def _problems(signature: inspect.Signature, hints: dict[str, Any], approved: object) -> list[dict[str, str]]:
    """What is wrong with the approved arguments for this signature and its simple type hints."""
    if not isinstance(approved, dict):
        return [{"field": "arguments", "message": "must be an object of the function's arguments"}]
    problems: list[dict[str, str]] = []
    params = {n: p for n, p in signature.parameters.items() if n != "tool_call_id"}
    takes_kwargs = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    for param_name, param in params.items():
        if param.kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD):
            continue
        if param.kind is inspect.Parameter.POSITIONAL_ONLY:
            problems.append({"field": param_name, "message": "positional-only parameters cannot be passed by name"})
        elif param_name not in approved:
            if param.default is inspect.Parameter.empty:
                problems.append({"field": param_name, "message": "is required"})
        elif param_name in hints and not _fits(approved[param_name], hints[param_name]):
            problems.append({"field": param_name, "message": f"must be {_describe(hints[param_name])}"})
    if not takes_kwargs:
        for extra in sorted(set(approved) - set(params)):
            problems.append({"field": extra, "message": "is not a parameter of the function"})
    return problems


def _fits(value: object, hint: Any) -> bool:
    """isinstance for the hints JSON arguments can have; anything more elaborate is accepted as is."""
    if hint is Any or hint is object:
        return True
    if hint is None or hint is type(None):
        return value is None
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return any(_fits(value, h) for h in typing.get_args(hint))
    if origin is Literal:
        return value in typing.get_args(hint)
    if origin is not None:
        hint = origin
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint in (str, bool, list, dict):
        return isinstance(value, hint)
    if hint in (Mapping, typing.Mapping):
        return isinstance(value, dict)
    return True


def _describe(hint: Any) -> str:
    names = {str: "a string", int: "an integer", float: "a number", bool: "true or false", list: "a list", dict: "an object", type(None): "null"}
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_describe(h) for h in typing.get_args(hint))
    if origin is Literal:
        return "one of " + ", ".join(json.dumps(v) for v in typing.get_args(hint))
    return names.get(origin or hint, getattr(hint, "__name__", str(hint)))
