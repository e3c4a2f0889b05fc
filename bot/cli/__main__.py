"""`python -m bot.cli`: the same as the `yibao` command."""

from bot.cli.main import main

raise SystemExit(main())
