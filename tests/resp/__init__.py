"""Tests against a real redis-server: the RESP codec, the captures, the client example."""
