"""``python -m eventpipe`` (and ``torchrun -m eventpipe``) runs the CLI."""

from eventpipe.cli.main import main

if __name__ == "__main__":
    main()
