"""memspice demo: the main job."""

from ._common import add_threads

HELP = "main job: check every device model's three faces and solve a small crossbar in ngspice and the sparse solver"


def configure(parser) -> None:
    add_threads(parser)


def run(args) -> int:
    from ..demo import main_job

    return main_job(verbose=True)
