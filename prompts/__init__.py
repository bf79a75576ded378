"""The LLM step's prompts as package data: one ``<name>.v<N>.toml`` file per prompt version (see
README.md here). Loaded by :mod:`extractor.llm.prompts`; no code lives here."""
