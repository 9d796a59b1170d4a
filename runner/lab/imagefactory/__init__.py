"""Twin of the Talos Image Factory (schematics, versions, official extensions, image downloads).

Start it in-process with `serve_in_thread(create_app(FactoryState()))` from `runner.lab.serve`.
"""

from runner.lab.imagefactory.app import create_app
from runner.lab.imagefactory.images import image_bytes, image_sha256
from runner.lab.imagefactory.state import DEFAULT_VERSIONS, Call, FactoryState, Faults, official_extensions

__all__ = [
    "DEFAULT_VERSIONS",
    "Call",
    "FactoryState",
    "Faults",
    "create_app",
    "image_bytes",
    "image_sha256",
    "official_extensions",
]
