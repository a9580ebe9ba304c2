"""Staff network events and Big Conversations: the service, calendar files, networks."""
