"""Options, command line and plotting helpers shared by the examples."""

import argparse
import os


def png_path(text):
    """Parse the --output path for argparse: a name ending in .png."""
    if not text.lower().endswith(".png"):
        raise argparse.ArgumentTypeError(
            f"must be a file name ending in .png, got {text!r}"
        )
    return text


def add_output_arguments(parser, default_output):
    """Add --output (the PNG to write) and --quick (a shorter run) to a parser."""
    parser.add_argument(
        "--output",
        type=png_path,
        default=default_output,
        help="path of the PNG picture to write; missing folders are created "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="train less, for a check that the example runs (results are rougher)",
    )


def run_from_command_line(module_doc, add_arguments, run, argv=None):
    """Parse argv with an example's options and run it; return its exit code.

    The parser's description is the first line of the example's module_doc.
    """
    parser = argparse.ArgumentParser(description=module_doc.splitlines()[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))


def import_pyplot():
    """Return matplotlib.pyplot with a non-interactive backend, or raise ImportError."""
    try:
        import matplotlib
    except ImportError as error:
        raise ImportError(
            "the examples draw their pictures with matplotlib, which is not "
            "installed; install it with: pip install matplotlib"
        ) from error
    # Files only: no window, and no display needed.
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def finish_figure(figure, path):
    """Lay out the figure, write it to path as PNG and free it."""
    import matplotlib.pyplot as plt

    directory = os.path.dirname(path)
    if directory:
        os.makedirs(directory, exist_ok=True)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
