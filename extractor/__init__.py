"""Extract 项目支出绩效自评表 from text, PDF, Word and Excel files into typed, traced records."""

__version__ = "0.1.0"
