"""The knowledge base: YAML files that moderators edit, loaded and validated."""

from bot.knowledge.base import KnowledgeBase
from bot.knowledge.loader import default_knowledge_dir, load_knowledge, validate_knowledge
from bot.knowledge.problems import KnowledgeError, Problem

__all__ = [
    "KnowledgeBase",
    "KnowledgeError",
    "Problem",
    "default_knowledge_dir",
    "load_knowledge",
    "validate_knowledge",
]
