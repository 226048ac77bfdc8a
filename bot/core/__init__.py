"""Platform-free core: normalize a message, check safety, match, build a ``Reply``.

Nothing here imports a chat platform; adapters call ``Responder`` and render its ``Reply``.
"""
