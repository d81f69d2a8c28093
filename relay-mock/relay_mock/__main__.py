"""`python -m relay_mock`: serve, or one of the inspection commands (see cli.py)."""

from relay_mock.cli import main

main()
