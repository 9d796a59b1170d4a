"""`runner lab`: the whole story on one machine (twins, git server, runner service, live view)."""
