# lib/local.mk — the private library shared by the host and the built-in plugins (not part of the SDK ABI).
