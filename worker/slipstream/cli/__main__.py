"""`python -m slipstream.cli`: the `slipstream` command without the console script."""

from slipstream.cli import main

raise SystemExit(main())
