"""edi-bot: the transport edge (aiohttp, Bot Framework), storage and services."""
