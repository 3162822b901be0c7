"""`python -m serve.cli`: the `ludex` command."""

import sys

from serve.cli.ludex import main

sys.exit(main())
