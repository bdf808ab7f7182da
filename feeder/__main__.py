"""`python -m feeder`: the same as the `feeder` command."""

from feeder.cli import main

if __name__ == "__main__":
    main()
