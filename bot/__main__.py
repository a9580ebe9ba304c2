"""`python -m bot` is `edi-bot`."""

from bot.cli import main

raise SystemExit(main())
