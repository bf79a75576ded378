"""Drafting the 存在问题 / 建议 sections: the text from a batch's flags (``sections``) and the one
Word writer the CLI and the app share (``word``)."""
