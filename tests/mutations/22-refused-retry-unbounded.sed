Mutant: a publish the broker refuses is retried for ever (never dropped after 10)
Needs: link
Tests: ctest ^test_outq
Tests: pytest tests/integration/test_link_faults.py::test_refused_publish_is_dropped_after_its_retries_and_holds_back_nothing
File: bridge/service_send.c

# the link branch's bound in not_confirmed (issue 10 item 4)
s/if (m->refusals >= OUTQ_MAX_RETRIES) {/if (0) {/
