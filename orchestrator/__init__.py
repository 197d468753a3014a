"""siliconbench: which local coding model works as an agent on your machine, how fast, at what memory cost."""

__version__ = "0.1.0"
