"""The forge token may post the runner's commit statuses and PR comments, and the runner knows its own login.

What each kind of token needs (README "Forge tokens"), and how doctor sees it without writing anything:
- GitHub App installation token (`ghs_`): `forge_bot_login` set to `<app-slug>[bot]` (GitHub refuses
  `GET /user` to it), the App installed on the repository (`GET /installation/repositories`), and its
  permissions, probed by reads that need them: Commit statuses (`GET .../commits/<branch>/statuses`),
  Issues or Pull requests (`GET .../issues/comments`);
- classic personal token (`ghp_`): the `repo` scope, which GitHub names in `X-OAuth-Scopes`;
- fine-grained personal token and other user tokens: push access to the repository and the same reads;
- Gitea/Forgejo: `read:user` (who it is, unless `forge_bot_login` says), `write:repository` (statuses) and
  `write:issue` (comments), probed
  by requests Gitea checks the scope of before anything else: `POST .../markup` renders nothing and
  `PATCH .../issues/comments/0` edits no comment that exists.
Reads cannot show write access on GitHub; the detail says so.
"""

from __future__ import annotations

import re

from runner.core.errors import RunnerError
from runner.drivers.forge import GiteaForge, GitHubForge
from runner.engine.commands.doctor.model import DoctorContext, Result, Row, failed, passed
from runner.engine.service.settings import Settings

CHECK = "forge token"
BOT_LOGIN = re.compile(r"[a-z0-9][a-z0-9-]*\[bot\]")
GITHUB_APP_FIX = "give the App Commit statuses: Read and write, Pull requests: Read and write, Contents: Read"
GITEA_FIX = "make a token with the scopes read:user, write:repository and write:issue"


def forge_token(ctx: DoctorContext) -> list[Row]:
    service = ctx.service
    if service is None and ctx.service_error:
        return failed(CHECK, f"the service settings do not load: {ctx.service_error}", "fix RUNNER_* or RUNNER_CONFIG")
    if service is None or service.forge_kind == "none" or service.forge_token is None:
        return [Row(CHECK, Result.SKIP, "no forge configured (forge_kind, forge_token)")]
    return forge_rows(service)


def forge_rows(service: Settings) -> list[Row]:
    """The check's row for the service's forge settings (a forge is configured)."""
    assert service.forge_token is not None
    kind = GitHubForge if service.forge_kind == "github" else GiteaForge
    forge = kind(service.forge_url, service.forge_token, bot_login=service.forge_bot_login)
    try:
        if isinstance(forge, GitHubForge):
            return _github(forge, service)
        assert isinstance(forge, GiteaForge)
        return _gitea(forge, service)
    except RunnerError as exc:
        return failed(CHECK, str(exc), "check forge_url, forge_token and repo_full_name")
    finally:
        forge.close()


def _github(forge: GitHubForge, service: Settings) -> list[Row]:
    repo, login = service.full_name, service.forge_bot_login
    if forge.token_kind == "installation":  # settings refuse one without forge_bot_login
        if not login or not BOT_LOGIN.fullmatch(login):
            return failed(CHECK, f"forge_bot_login {login!r} is not an App's bot login", "use '<app-slug>[bot]'")
        if repo.lower() not in {r.lower() for r in forge.installation_repositories()}:
            return failed(CHECK, f"the App is not installed on {repo}", "add the repository to the App's installation")
        branch = str(forge.repository(repo).get("default_branch") or "main")
        return _github_reads(forge, repo, f"the App ({login}) is installed on {repo}", branch)
    me, scopes = forge.whoami()
    if login and login != me:
        return failed(CHECK, f"forge_bot_login is {login!r} but the token is {me!r}", "fix forge_bot_login or unset it")
    info = forge.repository(repo)
    needed = {"repo"} if info.get("private", True) else {"repo", "public_repo"}
    if scopes is not None and not scopes & needed:
        visibility = "a private" if info.get("private", True) else "a public"
        return failed(
            CHECK,
            f"the classic token's scopes are {', '.join(sorted(scopes)) or 'none'}; statuses and PR comments "
            f"on {visibility} repository need {' or '.join(sorted(needed))}",
            "give the token the repo scope, or use a fine-grained token (see README, Forge tokens)",
        )
    if not {str(k): bool(v) for k, v in (info.get("permissions") or {}).items()}.get("push"):
        return failed(
            CHECK,
            f"the token may not write to {repo} (statuses and PR comments need write access)",
            "give the token write access (GitHub: Commit statuses + Pull requests: write; Gitea: repository write)",
        )
    if scopes is not None:
        return passed(CHECK, f"{me} (classic token, scopes {', '.join(sorted(scopes))}) may post on {repo}")
    return _github_reads(forge, repo, f"{me} may push to {repo}", str(info.get("default_branch") or "main"))


def _github_reads(forge: GitHubForge, repo: str, known: str, branch: str) -> list[Row]:
    for what, url in (
        ("commit statuses", f"/repos/{repo}/commits/{branch}/statuses?per_page=1"),
        ("issue and pull request comments", f"/repos/{repo}/issues/comments?per_page=1"),
    ):
        refused = forge.refusal("GET", url)
        if refused is not None:
            return failed(CHECK, f"{known}, but may not read its {what}: {refused}", GITHUB_APP_FIX)
    return passed(
        CHECK,
        f"{known} and may read its commit statuses and comments (GitHub shows no write access without a write: "
        "give Commit statuses and Pull requests Read and write)",
    )


def _gitea(forge: GiteaForge, service: Settings) -> list[Row]:
    repo, login = service.full_name, service.forge_bot_login
    refused = forge.refusal("GET", "/user")
    if refused is None:
        me, _ = forge.whoami()
        if login and login != me:
            return failed(CHECK, f"forge_bot_login is {login!r} but the token is {me!r}", "fix or unset it")
    elif not login:
        return failed(CHECK, f"GET /user (who the token is, to find its plan comment): {refused}", GITEA_FIX)
    else:
        me = login
    if not forge.repo_permissions(repo).get("push"):
        return failed(
            CHECK,
            f"the token may not write to {repo} (statuses and PR comments need write access)",
            "give the token's user write access to the repository",
        )
    for what, method, url, body in (
        ("commit statuses (write:repository)", "POST", f"/repos/{repo}/markup", {"Text": "", "Mode": "gfm"}),
        ("PR comments (write:issue)", "PATCH", f"/repos/{repo}/issues/comments/0", {"body": "-"}),
    ):
        refused = forge.refusal(method, url, json=body)
        if refused is not None:
            return failed(CHECK, f"the token may not post {what}: {refused}", GITEA_FIX)
    return passed(CHECK, f"{me} may post statuses and comments on {repo}")
