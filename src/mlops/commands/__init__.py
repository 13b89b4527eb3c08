"""One module per `mlops` subcommand: parse, load, call, write, log."""
