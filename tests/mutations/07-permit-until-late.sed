Mutant: a permit still covers openings up to 1 s after its until
Needs: -
Tests: ctest ^test_engine
Tests: pytest tests/integration/test_lifecycle_edges.py -k permit
File: bridge/engine_input.c
File: bridge/engine_permit.c

# engine_input.c: the household permits; engine_permit.c: the engine branch's
# permit windows (area and daily permits), when it is merged
s/wall_ms <= p->until_ms)/wall_ms <= p->until_ms + 1000)/
s/t > r->until_ms)/t > r->until_ms + 1000)/
