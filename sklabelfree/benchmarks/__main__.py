"""``python -m sklabelfree.benchmarks SUBCOMMAND [options]``.

Each subcommand lives in its own module, registered in :data:`SUBCOMMANDS`.
A module provides ``HELP`` (one line), ``add_arguments(parser)`` (its own
options) and ``run_from_args(args, progress)`` returning a
:class:`~sklabelfree.benchmarks.BenchmarkResult`. The options every
subcommand shares (``--seeds``, ``--format``, ``--std``, ``--threads``,
``--full``, ``--quiet``) are added here; the default of ``--seeds`` is a
:class:`~sklabelfree.benchmarks._table.Default` list, so that a subcommand
can tell seeds given from seeds left alone. To add ``active``, ``encoders``,
``few-shot`` or ``transfer``: write ``_active.py`` etc. with those three
names and add one line below.
"""

import argparse
import importlib
import sys
import time

from ._table import FORMATS, BenchmarkConfigError, Default, _python_command

SUBCOMMANDS = {
    "semi-supervised": "sklabelfree.benchmarks._semi_supervised",
    "speed": "sklabelfree.benchmarks._speed",
    "active": "sklabelfree.benchmarks._active",
    "encoders": "sklabelfree.benchmarks._encoders",
    "few-shot": "sklabelfree.benchmarks._few_shot",
    "transfer": "sklabelfree.benchmarks._transfer",
}
"""Subcommand name -> module implementing it."""


def _seed(text):
    try:
        seed = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if not 0 <= seed < 2**32:
        raise argparse.ArgumentTypeError(f"a seed must be in [0, 2**32), got {seed}")
    return seed


def _threads(text):
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if n < 0:
        raise argparse.ArgumentTypeError(f"threads must be >= 0, got {n}")
    return n


def _common_options():
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--seeds",
        nargs="+",
        type=_seed,
        default=Default([0, 1, 2]),
        metavar="SEED",
        help="seeds; the table shows the mean over them (default: 0 1 2, with the "
        "deep nets of semi-supervised on seed 0 unless --full; speed: 0)",
    )
    common.add_argument(
        "--format",
        choices=FORMATS,
        default="text",
        help="plain text, or an RST / Markdown table to paste in the README "
        "(default: %(default)s)",
    )
    common.add_argument(
        "--std", action="store_true", help="show the standard deviation over the seeds"
    )
    common.add_argument(
        "--full",
        action="store_true",
        help="the complete run: every method, label budget and seed (an hour or more "
        "on two cores for semi-supervised); without it, the deep nets run on a "
        "subset that the notes state (a few minutes in all); speed: more epochs",
    )
    common.add_argument(
        "--threads",
        type=_threads,
        default=1,
        metavar="N",
        help="BLAS / OpenMP / torch threads per fit; 0 keeps the libraries' defaults "
        "(default: %(default)s: small problems, and robust to other load)",
    )
    common.add_argument(
        "-q", "--quiet", action="store_true", help="no progress lines on stderr"
    )
    return common


def build_parser():
    """The argparse parser of ``python -m sklabelfree.benchmarks``.

    Returns
    -------
    parser : argparse.ArgumentParser
        With one sub-parser per entry of :data:`SUBCOMMANDS`; each sub-parser
        has ``set_defaults(module=..., subparser=...)``.

    Examples
    --------
    >>> from sklabelfree.benchmarks.__main__ import build_parser
    >>> args = build_parser().parse_args(["semi-supervised", "--labels", "20", "--seeds", "0"])
    >>> args.command, args.labels, args.seeds, args.format
    ('semi-supervised', [20], [0], 'text')
    """
    parser = argparse.ArgumentParser(
        prog="python -m sklabelfree.benchmarks",
        description="Measure sklabelfree's README tables beside the baselines of "
        "PROTOCOL.md, in one run, and print them.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    common = _common_options()
    for name, module_name in SUBCOMMANDS.items():
        module = importlib.import_module(module_name)
        sub = subparsers.add_parser(
            name, parents=[common], help=module.HELP, description=module.HELP
        )
        module.add_arguments(sub)
        sub.set_defaults(module=module, subparser=sub)
    return parser


def main(argv=None):
    """Run ``python -m sklabelfree.benchmarks`` with ``argv`` and print the report.

    Parameters
    ----------
    argv : list of str or None, default=None
        The arguments after the program name; ``None`` reads ``sys.argv``.

    Returns
    -------
    status : int
        0 when every fit succeeded, 1 when a method's fit raised (the
        report says which). Bad arguments exit with status 2 and a message
        (``SystemExit``), before any fit.

    Examples
    --------
    >>> from sklabelfree.benchmarks.__main__ import main
    >>> main(["semi-supervised", "--labels", "20", "--seeds", "0",
    ...       "--methods", "svc-labeled", "--quiet"])  # doctest: +ELLIPSIS
    Semi-supervised digits ...
    <BLANKLINE>
    command: python -m sklabelfree.benchmarks semi-supervised --labels 20 --seeds 0 ...
    ...
    method       20 labels  fit s (20)  protocol (20)
    -----------  ---------  ----------  -------------
    svc-labeled      0.689        ...           0.719
    ...
    0
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args = parser.parse_args(argv)

    def progress(line):
        print(line, file=sys.stderr, flush=True)

    start = time.perf_counter()
    try:
        result = args.module.run_from_args(args, progress=None if args.quiet else progress)
    except BenchmarkConfigError as exc:
        args.subparser.error(str(exc))
    result.wall_seconds = time.perf_counter() - start
    print(result.report(fmt=args.format, std=args.std, command=_python_command(argv)))
    return 1 if result.errors else 0


if __name__ == "__main__":
    sys.exit(main())
