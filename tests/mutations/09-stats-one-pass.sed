Mutant: statistics are published on the first pass only
Needs: -
Tests: ctest ^test_engine
Tests: pytest tests/integration/test_lifecycle_edges.py -k stats
File: bridge/engine.c

/if (stats_step(e, now, STATS_SLICE))/{
n
s/e->next_stats_mono = now.mono_ms + e->set.stats_interval_ms;/e->next_stats_mono = INT64_MAX;/
}
