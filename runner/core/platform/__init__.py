"""The operator's platform under flux/apps/platform/: what can be checked offline about it, without I/O.

- `values_check`: a HelmRelease's values against its chart version's own definition (its
  `values.schema.json` where it ships one, and the keys of its `values.yaml` everywhere), so a misspelled key
  fails `runner validate` instead of being silently ignored by Helm;
- `dependencies`: every Flux Kustomization a cluster enables has its `dependsOn` enabled too.
"""
