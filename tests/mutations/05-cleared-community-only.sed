Mutant: cleared is published at community level only, not at every level reached
Needs: -
Tests: ctest ^test_engine
Tests: pytest tests/integration/test_lifecycle_edges.py -k cleared
File: bridge/engine_alert.c

s/for (int l = 0; l <= (int)a->level; l++)/for (int l = 0; l <= (to == SB_AST_CLEARED ? 0 : (int)a->level); l++)/
