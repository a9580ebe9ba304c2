"""`python -m bot` is `edi-bot`."""

from bot.cli.main import main

raise SystemExit(main())
