"""A twin of the forges' commit-status and PR-comment APIs (GitHub and Gitea/Forgejo) for tests and the lab."""

from runner.lab.forge.app import create_forge_app
from runner.lab.forge.state import Comment, ForgeState, Status

__all__ = ["Comment", "ForgeState", "Status", "create_forge_app"]
