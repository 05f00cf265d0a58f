"""The crawlers whose robots.txt groups reserve AI training: the one list, kept here.

Source: each vendor's own crawler documentation (OpenAI's GPTBot, Google's Google-Extended,
Common Crawl's CCBot, Anthropic's ClaudeBot, Apple's Applebot-Extended, Meta's
meta-externalagent, ...), cross-checked against the community list at
https://github.com/ai-robots-txt/ai.robots.txt. Only tokens whose documented purpose includes
collecting training data are here: agents that fetch a page because a user asked (ChatGPT-User)
or only build a search index (OAI-SearchBot) are not, since blocking them says nothing about
training. Review the list when a vendor announces a new token; matching is case-insensitive
on the product token (the part before any "/version").
"""

from __future__ import annotations

AI_TRAINING_AGENTS: tuple[str, ...] = (
    "GPTBot",  # OpenAI: training
    "Google-Extended",  # Google: Gemini training and grounding
    "CCBot",  # Common Crawl: the corpus most image-text data sets start from
    "ClaudeBot",  # Anthropic: training
    "anthropic-ai",  # Anthropic: the older token
    "Claude-Web",  # Anthropic: the older token
    "Applebot-Extended",  # Apple: training
    "Bytespider",  # ByteDance: training
    "meta-externalagent",  # Meta: training
    "FacebookBot",  # Meta: the older training token
    "PerplexityBot",  # Perplexity: index used by its models
    "cohere-ai",  # Cohere
    "cohere-training-data-crawler",  # Cohere: training
    "Amazonbot",  # Amazon: includes model training
    "AI2Bot",  # Allen Institute: training corpora (Dolma)
    "Ai2Bot-Dolma",
    "Diffbot",  # knowledge graph sold for training
    "img2dataset",  # the tool LAION-style image data sets are downloaded with
    "ImagesiftBot",  # image collection
    "omgili",  # Webz.io: data sold for training
    "omgilibot",
    "Webzio-Extended",
    "Timpibot",  # Timpi: training data
    "YouBot",  # You.com: training and search
    "Kangaroo Bot",
    "PanguBot",  # Huawei: training
)

_TOKENS = frozenset(agent.lower() for agent in AI_TRAINING_AGENTS)


def product_token(value: str) -> str:
    """ "GPTBot/1.1" -> "gptbot"; "*" stays "*"."""
    return value.split("/", 1)[0].strip().lower()


def is_ai_training_agent(value: str) -> bool:
    return product_token(value) in _TOKENS
