"""`python -m removal_desk_toolkit ...` is `removal-desk ...`."""

import sys

from .cli import desk_main

sys.exit(desk_main())
