"""Build the detectors from the labelled corpora: split once, train by one command.

Training-only code: it needs the ``train`` extra (scikit-learn); the bot itself only
reads the weights this writes to ``knowledge/models/``.
"""
