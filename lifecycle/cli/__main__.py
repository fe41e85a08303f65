"""``python -m lifecycle.cli`` is ``skewless``."""

from lifecycle.cli import main

main()
