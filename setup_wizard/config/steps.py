"""The backend's view of its settings (config/backend.py) as checklist items: one list of Steps that
`check`, `--yes` and the wizard all show, each failure with its stable code, Korean cause and fix."""

from __future__ import annotations

from typing import Any

from setup_wizard import problems
from setup_wizard.config import backend_verdict as b
from setup_wizard.config.settings import Settings
from setup_wizard.messages import backend_settings as backend_settings_msg
from setup_wizard.messages import settings as settings_msg
from setup_wizard.results import Status, Step

ENV_CODES = (b.ENV_NOT_UTF8, b.ENV_BOM, b.ENV_OUTSIDE)


def _problem_step(step_id: str, status: Status, problem: b.Problem, **values: str) -> Step:
    args: dict[str, Any] = {**problem.args, **values}  # the entry's values (problems.step's **values)
    if problem.source is not None:
        args.setdefault("source", problem.source.describe())
    if problem.code == b.ENV_NOT_UTF8:
        args["encoding_name"] = backend_settings_msg.BACKEND_ENCODING_NAMES.get(
            args.get("encoding", ""), args.get("encoding", "")
        )
    if problem.code == b.URL_MISSING:
        args["keys"] = args.get("keys") or settings_msg.NOT_SET
    if problem.code == b.URL_SCHEME:
        args["reason"] = backend_settings_msg.BACKEND_SCHEME_REASONS.get(
            args["scheme"], backend_settings_msg.BACKEND_SCHEME_OTHER
        )
    return problems.step(problem.code, step_id, status, **args)


def _target(url: str | None) -> str:
    if not url:
        return backend_settings_msg.BACKEND_TARGET_NONE
    return b.redact_url(url.strip())


def _others(view: b.BackendView) -> tuple[str, ...]:
    lines = []
    for other in view.others:
        if other.path is not None and other.path != view.layout.env_path:
            lines.append(
                backend_settings_msg.BACKEND_OTHER_VALUE_IN.format(source=other.source.describe(), path=other.path)
            )
        else:
            lines.append(backend_settings_msg.BACKEND_OTHER_VALUE.format(source=other.source.describe()))
    return tuple(lines)


def settings_steps(view: b.BackendView, settings: Settings | None = None) -> list[Step]:
    """The settings items, in order: the backend's .env, its DATABASE_URL, and --dsn pointing elsewhere.

    ids: `backend_env`, `backend_url` (one Step per problem, each with its own code), `backend_dsn`.
    `settings` (what the wizard connects to) names the target in the --dsn item.
    """
    if view.layout.assumed and view.layout.env_raw is None and view.source is None:
        # No backend folder and no .env: nothing tells where the backend would start.
        return [
            Step(
                "backend_url",
                Status.SKIP,
                backend_settings_msg.STEP_BACKEND_URL,
                backend_settings_msg.BACKEND_NOT_FOUND,
            )
        ]
    steps: list[Step] = []
    more = (backend_settings_msg.BACKEND_FOLDER_ASSUMED,) if view.layout.assumed else ()
    by_code = {p.code: p for p in view.problems}
    env_problems = [p for p in view.problems if p.code in ENV_CODES]
    for problem in env_problems:
        step = _problem_step("backend_env", Status.FAIL, problem)
        steps.append(Step(step.id, step.status, step.title, step.detail, step.code, step.fix, more))
    if not env_problems:
        if view.layout.env_raw is not None:
            steps.append(Step("backend_env", Status.OK, backend_settings_msg.STEP_BACKEND_ENV,
                              backend_settings_msg.BACKEND_ENV_OK.format(path=view.layout.env_path), more=more))
        elif view.source is not None:
            steps.append(Step("backend_env", Status.OK, backend_settings_msg.STEP_BACKEND_ENV,
                              backend_settings_msg.BACKEND_ENV_ABSENT_ENVIRON.format(path=view.layout.env_path,
                                                                    key=view.source.key), more=more))

    url_problems = [p for p in view.problems if p.code not in ENV_CODES and p.code != b.DSN_ELSEWHERE]
    for problem in url_problems:
        steps.append(_problem_step("backend_url", Status.FAIL if problem.fatal else Status.WARN, problem))
    if view.url and not any(p.fatal for p in view.problems):
        source = view.source.describe() if view.source is not None else "DATABASE_URL"
        steps.append(Step("backend_url", Status.OK, backend_settings_msg.STEP_BACKEND_URL,
                          backend_settings_msg.BACKEND_URL_OK.format(source=source, url=_target(view.url)),
                          more=_others(view)))
    if b.DSN_ELSEWHERE in by_code:
        wanted = settings.redacted_url() if settings is not None else "--dsn"
        steps.append(_problem_step("backend_dsn", Status.WARN, by_code[b.DSN_ELSEWHERE], dsn_target=wanted,
                                   backend_target=_target(view.url)))
    return steps
