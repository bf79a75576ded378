"""The LLM step: the only code that imports openai and instructor. Client and configuration
(``client``), form and report extraction (``extract``, ``report``), second opinions (``opinion``),
grounding of every answer in the source (``grounding``), prompts as package data (``prompts``) and the
glue that sends uncertain forms to the model (``step``)."""
