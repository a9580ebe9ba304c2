"""The privacy core: keys, field encryption, pseudonyms, roles, audit, retention."""
