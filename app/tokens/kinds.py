"""The kinds of token (a module of its own so the CLI's ``--help`` can name them cheaply)."""

TOKEN_KINDS = ("admin", "publish", "subscribe")
