"""The knowledge base: schema, loading, lint and the entries' own test cases."""
