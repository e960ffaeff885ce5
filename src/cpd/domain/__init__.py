"""The pure core: entities, rules and errors, free of frameworks and drivers."""
