"""The Kubernetes minor release the twin serves, and the first minor of each rule that changed wording.

The twin answers as the kube-apiserver its controllers run (v1.29 to v1.36); rules were checked upstream at
v1.32 and v1.36, and where they differ the first release with the new rule is pinned here.
"""

from __future__ import annotations

NEWEST_CHECKED = 36  # the newest minor whose rules were read upstream

# kubernetes/pod-security-admission policy/check_hostProbesAndhostLifecycle.go (MinimumVersion 1.34)
PROBE_HOSTS_BASELINE = 34
# kubernetes/pod-security-admission policy/check_runAsNonRoot.go (1.35: any value when hostUsers is false)
USER_NAMESPACE_RELAXATION = 35
# kubernetes/apimachinery pkg/util/validation/field/errors.go @v0.34.0: ErrorBody renders non-scalar values as JSON
FIELD_VALUES_AS_JSON = 34
# kubernetes/apimachinery pkg/api/validate/content @v0.35.0: label keys and values count bytes
LABEL_CONTENT_PACKAGE = 35


def minor_number(version: str) -> int:
    """`v1.36.3` or `1.36` -> 36."""
    return int(version.lstrip("v").split(".")[1])
