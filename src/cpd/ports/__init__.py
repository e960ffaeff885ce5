"""What the core needs from the outside world, in the core's words (typing.Protocol only)."""
