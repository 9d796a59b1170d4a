"""A Talos config generator of the tests' own, for clusters the runner did not build: it shares no code with the
runner's renderer, secrets or config modules, so adoption is checked against another tool's output.

It imitates Talos v1.11.6 (siderolabs/talos tag v1.11.6: pkg/machinery/config/generate/{init,controlplane,
worker}.go, generate/secrets/{bundle,ca,utils,secrets}.go, config/merge/merge.go, config/contract.go) as
terraform-provider-talos v0.9.0 (the release built on Talos machinery v1.11) calls it: pkg/talos/util.go
(generate options, the `machine_secrets` layout) and talos_machine_configuration_data_source.go
(config_patches); and the multi-document form of Talos v1.13.9 (tag v1.13.9, same files) as
terraform-provider-talos v0.11.0 calls it. Each module names the rules it follows. The lab's foreign cluster
runs v1.11.6; the v1.13 form is checked offline (tests/adopt/test_foreign_configs.py).
"""

from tests.adopt.foreign_gen.config import generate, machine_configuration
from tests.adopt.foreign_gen.patch import merge_documents, strategic_merge
from tests.adopt.foreign_gen.secrets import client_configuration, machine_secrets, terraform_output_json

__all__ = [
    "client_configuration",
    "generate",
    "machine_configuration",
    "machine_secrets",
    "merge_documents",
    "strategic_merge",
    "terraform_output_json",
]
