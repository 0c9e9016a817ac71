Mutant: a publish the broker refuses is retried for ever (never dropped after 10)
Needs: link
Tests: ctest ^test_outq
Tests: pytest tests/integration/test_faults_broker.py
File: bridge/service_send.c

# the link branch's bound in not_confirmed (issue 10 item 4)
s/if (m->refusals >= OUTQ_MAX_RETRIES) {/if (0) {/
