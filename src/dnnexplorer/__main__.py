"""`python -m dnnexplorer` runs the `dnnx` command (also what torchrun launches)."""

from dnnexplorer.cli import main

if __name__ == "__main__":
    main()
