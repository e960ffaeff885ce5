"""The REST API: a Litestar app whose controllers translate HTTP to use-case calls and back."""
