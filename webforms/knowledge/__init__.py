"""The knowledge base (知识库) pages: search, articles, review, suggestions on task forms."""
