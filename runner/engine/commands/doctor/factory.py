"""The Image Factory answers and knows the cluster's Talos version and every extension it asks for."""

from __future__ import annotations

from runner.core.errors import RunnerError
from runner.engine.commands.doctor.model import DoctorContext, Row, failed, passed


def image_factory(ctx: DoctorContext) -> list[Row]:
    from runner.drivers.imagefactory import ImageFactoryDriver

    url = ctx.settings.image_factory_url or ctx.cluster.image_factory.url
    version = ctx.cluster.talos.version
    try:
        with ImageFactoryDriver(url, timeout=15.0) as factory:
            if version not in factory.versions():
                return failed(
                    "image factory",
                    f"{url} does not know Talos {version}",
                    "pick a Talos version the factory offers (GET /versions), or check imageFactory.url",
                )
            available = set(factory.official_extensions(version))
    except RunnerError as exc:
        return failed("image factory", str(exc), "check imageFactory.url and the network to it")
    unknown = [name for name in ctx.cluster.talos.extensions if name not in available]
    if unknown:
        return failed(
            "image factory",
            f"not official extensions for Talos {version}: {', '.join(unknown)}",
            "fix talos.extensions (GET /version/<v>/extensions/official lists them)",
        )
    return passed("image factory", f"{url} knows Talos {version} and {len(ctx.cluster.talos.extensions)} extensions")
