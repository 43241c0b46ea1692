"""One module per benchmark topic; each imports ``bench_app`` from :mod:`eventpipe.cli.commands.bench`."""
