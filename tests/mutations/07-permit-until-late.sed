Mutant: a permit still covers openings up to 1 s after its until
Needs: -
Tests: ctest ^test_engine
Tests: pytest tests/integration/test_lifecycle_edges.py -k permit
File: bridge/engine_input.c

s/wall_ms <= p->until_ms)/wall_ms <= p->until_ms + 1000)/
