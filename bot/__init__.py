"""A peer-support bot that answers questions about one article on ketamine for PTSD."""

__version__ = "0.1.0"
